/** Bounds on glob input (documented in compiler/README.md; change both together). */
export const GlobLimits = {
  /** A CODEOWNERS file this size or larger is not loaded (GitHub: "must be under 3 MB"). */
  maxCodeownersBytes: 3 * 1024 * 1024,
  /** Most rules in one CODEOWNERS file; more and the file is not loaded (fails closed). */
  maxCodeownersRules: 20_000,
  /** Longest pattern, CODEOWNERS or trigger filter (the manifest schema says 256 for filters). */
  maxPatternLength: 1_024,
  /** Most patterns in one trigger filter list (as the manifest schema's `maxItems`). */
  maxFilterPatterns: 100,
} as const;
