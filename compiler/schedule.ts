import type { Plan } from '../core/index.ts';
import { parseDuration } from './duration.ts';
import { cronLibrary } from './libraries.ts';

/** A schedule entry as the Plan carries it (plan.schema.json `PlanSchedule`). */
export type PlanSchedule = NonNullable<Plan['triggers']['schedule']>[number];
export type CatchUp = PlanSchedule['catchUp'];

/** What `triggers.schedule` may hold per entry (the manifest schema's `ScheduleEntry`). */
export type ScheduleEntryInput = string | { cron: string; timezone?: string; catchUp?: string };

/** The most missed slots `catchUp: all` (or a long duration) runs after a restart. */
export const MAX_CATCH_UP_SLOTS = 100;

/** Macros cron-parser knows, except `@secondly` (schedules have minute resolution). */
const MACROS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@hourly',
  '@minutely',
  '@weekdays',
  '@weekends',
]);

// Any fixed instant: parsing must not read the clock (the compiler is pure).
const EPOCH = new Date(0);

export type ScheduleProblem = { field: 'cron' | 'timezone' | 'catchUp'; message: string; hint: string };

/** Collapses whitespace; a macro is lower-cased. */
export function normaliseCron(cron: string): string {
  const collapsed = cron.trim().split(/\s+/).join(' ');
  return collapsed.startsWith('@') ? collapsed.toLowerCase() : collapsed;
}

/** Why a cron string is refused, or undefined: five fields (minute resolution) or a macro, as cron-parser reads them. */
export function cronProblem(cron: string): string | undefined {
  const text = normaliseCron(cron);
  if (text.startsWith('@')) return MACROS.has(text) ? undefined : `unknown macro ${JSON.stringify(text)}`;
  const fields = text.split(' ');
  if (fields.length !== 5)
    return `a cron expression has five fields (minute hour day-of-month month day-of-week), this one has ${fields.length}`;
  // `H` (hashed) values depend on a seed: a slot time must not depend on anything but the text.
  // (`thu` is the only day or month name with an h.)
  if (fields.some((field) => /h/i.test(field.replace(/thu/gi, ''))))
    return 'hashed values (`H`) are not supported';
  try {
    cronLibrary().CronExpressionParser.parse(text, { currentDate: EPOCH, tz: 'UTC', strict: false }).next();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whether `zone` is a time zone the runtime knows (IANA names; `UTC`). */
export function knownTimezone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `latest` (default), `none`, `all`, or a duration (`6h`) as `{ withinMs }`. */
export function parseCatchUp(text: string | undefined): CatchUp | undefined {
  if (text === undefined || text === 'latest') return 'latest';
  if (text === 'none' || text === 'all') return text;
  try {
    const withinMs = parseDuration(text);
    return withinMs > 0 ? { withinMs } : undefined;
  } catch {
    return undefined;
  }
}

/** Every problem of one entry (empty when it is valid). */
export function scheduleProblems(entry: ScheduleEntryInput): ScheduleProblem[] {
  const spec = typeof entry === 'string' ? { cron: entry } : entry;
  const problems: ScheduleProblem[] = [];
  const cron = cronProblem(spec.cron);
  if (cron)
    problems.push({
      field: 'cron',
      message: `invalid cron expression ${JSON.stringify(spec.cron)}: ${cron}`,
      hint: 'five fields: minute hour day-of-month month day-of-week, e.g. `0 3 * * *` (03:00 every day), or `@daily`',
    });
  if (spec.timezone !== undefined && !knownTimezone(spec.timezone))
    problems.push({
      field: 'timezone',
      message: `unknown time zone ${JSON.stringify(spec.timezone)}`,
      hint: 'an IANA time zone name such as `Europe/Paris` or `America/New_York` (default `UTC`)',
    });
  if (parseCatchUp(spec.catchUp) === undefined)
    problems.push({
      field: 'catchUp',
      message: `invalid catchUp ${JSON.stringify(spec.catchUp)}`,
      hint: '`latest` (default), `none`, `all`, or a duration such as `6h`',
    });
  return problems;
}

/** The Plan's form of a valid entry. */
export function normaliseSchedule(entry: ScheduleEntryInput): PlanSchedule {
  const spec = typeof entry === 'string' ? { cron: entry } : entry;
  // Keys in canonical (sorted) order: the planner's objects take canonical-fast's quick path.
  return {
    catchUp: parseCatchUp(spec.catchUp) ?? 'latest',
    cron: normaliseCron(spec.cron),
    timezone: spec.timezone ?? 'UTC',
  };
}
