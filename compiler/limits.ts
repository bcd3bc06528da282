/**
 * Bounds on hostile input. Each one turns a potential hang, crash or memory blow-up into a clear
 * diagnostic. Documented in compiler/README.md; change both together.
 */
export const Limits = {
  /** Largest manifest accepted, in bytes (a 50,000-task manifest is about 6.5 MB). */
  maxBytes: 16 * 1024 * 1024,
  /** Deepest nesting of mappings and sequences. */
  maxDepth: 64,
  /** Most alias nodes (`*name`) in one document. */
  maxAliases: 10_000,
  /** Most JSON nodes after alias expansion (defeats "billion laughs" alias bombs). */
  maxExpandedNodes: 5_000_000,
  /** Most tasks after matrix expansion. */
  maxPlanTasks: 200_000,
  /** Most expansions of one matrix task. */
  maxMatrixExpansions: 1_024,
  /** Most diagnostics reported for one file; the rest are summarised in one more diagnostic. */
  maxDiagnostics: 500,
} as const;

/** Object keys that could reach a prototype when copied naively; rejected anywhere in a manifest. */
export const reservedKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
