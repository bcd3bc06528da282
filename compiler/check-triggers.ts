import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { pointerOf } from './finding.ts';
import { checkFilterPatterns } from './glob/index.ts';
import { scheduleProblems, type ScheduleEntryInput } from './schedule.ts';

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

const scheduleCodes = {
  cron: Code.invalidCron,
  timezone: Code.unknownTimezone,
  catchUp: Code.invalidCatchUp,
} as const;

/**
 * `triggers.schedule` entries: each cron expression parsed by cron-parser (at a fixed instant,
 * never the clock), each time zone known to the runtime, each `catchUp` readable. A diagnostic
 * sits on the offending value. Shapes the schema refuses are left to its diagnostics.
 */
export function checkSchedules(manifest: unknown): Finding[] {
  const spec = isRecord(manifest) && isRecord(manifest.spec) ? manifest.spec : undefined;
  const schedule = spec && isRecord(spec.triggers) ? spec.triggers.schedule : undefined;
  if (schedule === undefined) return [];
  const entries = Array.isArray(schedule) ? schedule : [schedule];
  const findings: Finding[] = [];
  entries.forEach((entry, index) => {
    const at = Array.isArray(schedule) ? [index] : [];
    const shaped =
      typeof entry === 'string' ||
      (isRecord(entry) &&
        typeof entry.cron === 'string' &&
        (entry.timezone === undefined || typeof entry.timezone === 'string') &&
        (entry.catchUp === undefined || typeof entry.catchUp === 'string'));
    if (!shaped) return;
    for (const problem of scheduleProblems(entry as ScheduleEntryInput))
      findings.push({
        code: scheduleCodes[problem.field],
        severity: 'error',
        message: problem.message,
        hint: problem.hint,
        pointer:
          typeof entry === 'string'
            ? pointerOf('spec', 'triggers', 'schedule', ...at)
            : pointerOf('spec', 'triggers', 'schedule', ...at, problem.field),
      });
  });
  return findings;
}
