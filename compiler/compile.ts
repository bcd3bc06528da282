import { sortDiagnostics } from '../core/index.ts';
import type { Diagnostic, Manifest, Plan, TaskCatalog } from '../core/index.ts';
import { analyze } from './analysis/index.ts';
import { buildPlan } from './build-plan.ts';
import { expandBlueprint } from './blueprint/expand.ts';
import { Code } from './codes.ts';
import { decodeSource } from './decode.ts';
import { toDiagnostic, type Finding } from './finding.ts';
import { Limits } from './limits.ts';
import { locate } from './locate.ts';
import { parseFast } from './parse-fast.ts';
import { validateManifestSchema } from './validate-schema.ts';

export interface CompileOptions {
  /** Path shown in diagnostics (as the user wrote it, or repository-relative). */
  file?: string;
  /** Catalog `uses:` resolves against; tasks/ provides the built-in one. */
  catalog: TaskCatalog;
}

export interface CompileResult {
  /** Present only when there are no errors (warnings allowed). */
  plan?: Plan;
  /** Every problem found, sorted by position. */
  diagnostics: Diagnostic[];
  kind?: 'Workflow' | 'Runbook';
  name?: string;
}

/**
 * Manifest source → Plan, or every problem at once. Pure: no file system, network, environment
 * or clock. Valid input takes the fast path (js-yaml, no positions); the source is re-read with
 * positions (`yaml`) only when there is something to report.
 */
export function compileManifest(source: string | Uint8Array, options: CompileOptions): CompileResult {
  const decoded = decodeSource(source);
  if ('finding' in decoded) {
    // Only the valid prefix is parsed, to turn the bad byte's offset into a line and column.
    return { diagnostics: [locate(decoded.prefix).place(decoded.finding, options.file)] };
  }
  const text = decoded.text;
  const fast = parseFast(text);
  if (!fast.ok) {
    const limit = fast.code === Code.tooDeep || fast.code === Code.aliasLimit;
    const empty = /input is empty/.test(fast.reason);
    // Past a limit, the positional parser must not walk the input either: place by offset only.
    const located = limit || empty ? locate('') : locate(text);
    const findings: Finding[] = empty
      ? [
          {
            code: Code.notAMapping,
            severity: 'error',
            message: 'the document is empty',
            hint: 'start with `apiVersion: maestro/v1` and `kind: Workflow`',
            pointer: '',
            offset: { start: 0, end: 0 },
          },
        ]
      : !limit && located.syntax.length > 0
        ? located.syntax
        : [
            {
              code: fast.code,
              severity: 'error',
              message: fast.reason,
              ...(limit
                ? {
                    hint: `the limits are ${Limits.maxDepth} levels of nesting and ${Limits.maxAliases} aliases`,
                  }
                : {}),
              pointer: '',
              offset: { start: fast.offset ?? 0, end: fast.offset ?? 0 },
            },
          ];
    const place = limit ? offsetPlacer(text, options.file) : (f: Finding) => located.place(f, options.file);
    return { diagnostics: finish(findings.map(place)) };
  }
  const value = fast.value;
  const identity = identify(value);
  const findings = [...fast.findings];
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    findings.push({
      code: Code.notAMapping,
      severity: 'error',
      message:
        value === null || value === undefined ? 'the document is empty' : 'a manifest must be a mapping',
      hint: 'start with `apiVersion: maestro/v1` and `kind: Workflow`',
      pointer: '',
      offset: { start: 0, end: 0 },
    });
  // After an alias bomb or reserved key, nothing else may walk the value.
  const guarded = findings.some(
    (f) => f.code === Code.aliasLimit || f.code === Code.tooDeep || f.code === Code.notAMapping,
  );
  let plan: Plan | undefined;
  if (!guarded) {
    // A reserved key is reported once, not again as an unknown property.
    const reserved = new Set(findings.filter((f) => f.code === Code.reservedKey).map((f) => f.pointer));
    // A blueprint is instantiated first (compiler/blueprint/): the passes below see the workflow
    // it makes, and what they find in the blueprint's part is moved to the user's `uses`.
    const expansion = expandBlueprint(value, options.catalog);
    const manifest = expansion.value;
    findings.push(...expansion.findings);
    for (const f of validateManifestSchema(manifest))
      if (!reserved.has(f.pointer)) findings.push(expansion.remap(f));
    const schemaValid = !findings.some((f) => f.severity === 'error');
    const analysis = analyze(manifest, options.catalog);
    for (const finding of analysis.findings) findings.push(expansion.remap(finding));
    if (schemaValid && !findings.some((f) => f.severity === 'error')) {
      const expandedCount = analysis.tasks.reduce((n, m) => n + expansions(m.task.matrix), 0);
      if (expandedCount > Limits.maxPlanTasks)
        findings.push({
          code: Code.planTooLarge,
          severity: 'error',
          message: `the plan would have ${expandedCount} tasks; the limit is ${Limits.maxPlanTasks}`,
          pointer: '/spec/tasks',
        });
      else plan = buildPlan(manifest as Manifest, analysis.tasks, analysis.order, expansion.pin);
    }
  }
  const diagnostics = findings.length === 0 ? [] : placeAll(text, findings, options.file);
  return { ...(plan ? { plan } : {}), diagnostics, ...identity };
}

/** Places findings that carry offsets, counting lines without parsing. */
function offsetPlacer(text: string, file: string | undefined): (finding: Finding) => Diagnostic {
  const position = (offset: number) => {
    let line = 1;
    let lineStart = 0;
    for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return { line, column: offset - lineStart + 1 };
  };
  return (finding) =>
    toDiagnostic(finding, position(finding.offset?.start ?? 0), position(finding.offset?.end ?? 0), file);
}

function placeAll(text: string, findings: Finding[], file: string | undefined): Diagnostic[] {
  const located = locate(text);
  return finish(findings.map((f) => located.place(f, file)));
}

function finish(diagnostics: Diagnostic[]): Diagnostic[] {
  const sorted = sortDiagnostics(diagnostics);
  if (sorted.length <= Limits.maxDiagnostics) return sorted;
  const kept = sorted.slice(0, Limits.maxDiagnostics);
  const last = kept[kept.length - 1] as Diagnostic;
  kept.push({
    ...last,
    code: Code.tooManyDiagnostics,
    severity: 'error',
    message: `${sorted.length - Limits.maxDiagnostics} more problems are not listed`,
    hint: 'fix the ones above and compile again',
  });
  return kept;
}

function expansions(matrix: Record<string, unknown[]> | undefined): number {
  if (!matrix) return 1;
  return Object.values(matrix).reduce<number>((n, v) => n * (Array.isArray(v) ? v.length : 1), 1);
}

function identify(value: unknown): Pick<CompileResult, 'kind' | 'name'> {
  if (value === null || typeof value !== 'object') return {};
  const v = value as { kind?: unknown; metadata?: { name?: unknown } };
  return {
    ...(v.kind === 'Workflow' || v.kind === 'Runbook' ? { kind: v.kind } : {}),
    ...(typeof v.metadata?.name === 'string' ? { name: v.metadata.name } : {}),
  };
}
