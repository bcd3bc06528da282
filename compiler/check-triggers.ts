import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { pointerOf } from './finding.ts';
import { checkFilterPatterns } from './glob/index.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Trigger filter patterns (`branches`, `paths` of `push` and `pull_request`) checked against
 * GitHub's filter syntax, so a pattern the App's matcher would refuse is a diagnostic at its
 * line instead of a workflow that silently never starts. Lengths and counts are the schema's.
 */
export function checkTriggerFilters(manifest: unknown): Finding[] {
  const spec = isRecord(manifest) && isRecord(manifest.spec) ? manifest.spec : undefined;
  const triggers = spec && isRecord(spec.triggers) ? spec.triggers : undefined;
  if (!triggers) return [];
  const findings: Finding[] = [];
  for (const event of ['push', 'pull_request'] as const) {
    const filter = triggers[event];
    if (!isRecord(filter)) continue;
    for (const list of ['branches', 'paths'] as const) {
      const patterns = filter[list];
      if (!Array.isArray(patterns) || !patterns.every((p) => typeof p === 'string')) continue;
      for (const problem of checkFilterPatterns(patterns as string[])) {
        if (problem.kind === 'tooMany' || problem.kind === 'tooLong') continue; // the schema's MS1006 says so
        const onlyNegated = problem.kind === 'onlyNegated';
        findings.push({
          code: onlyNegated ? Code.onlyNegatedGlobs : Code.invalidGlob,
          severity: 'error',
          message: onlyNegated
            ? `\`${list}\` of \`${event}\`: ${problem.message}`
            : `invalid ${list === 'branches' ? 'branch' : 'path'} pattern ${JSON.stringify(patterns[problem.index])}: ${problem.message}`,
          hint: onlyNegated
            ? 'patterns are checked in order and the last match decides; start with a positive one'
            : 'GitHub filter syntax: * ** ? + [a-z0-9] ! and \\ to escape (see docs/reference/manifest.md)',
          pointer: onlyNegated
            ? pointerOf('spec', 'triggers', event, list)
            : pointerOf('spec', 'triggers', event, list, problem.index),
        });
      }
    }
  }
  return findings;
}
