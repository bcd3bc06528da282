/**
 * A typed walk that proves a manifest task valid against schemas/manifest.schema.json's `Task`
 * without ajv, for the plain shape most tasks have (a `run` string, env, needs, when, outputs,
 * timeout, runner, resources). It answers `true` only when the schema surely accepts the task, and
 * `false` ("ask ajv") for anything else, including every invalid task: validate-schema.ts runs
 * ajv on the tasks it cannot decide, so findings and their messages are ajv's as before.
 *
 * Why: ajv with `allErrors` and `verbose` builds an error object (with data and schema) for each
 * failed branch of the Task schema's `not`/`oneOf`s and then discards it, ≈ 1 KB per valid task.
 * The rules below restate the schema's; compiler/schema-fast.test.ts pins those schema fragments
 * and checks the walk against ajv on generated tasks, so a schema change cannot pass unnoticed.
 */

const duration = /^([0-9]{1,9}(ms|s|m|h|d))+$/;

/**
 * `^[A-Za-z_][A-Za-z0-9_${dash}]{0,max-1}$` by its characters (a loop, not a RegExp call: this runs
 * for each id, output and env name of every task). `dash`: whether `-` is allowed after the first.
 */
function name(v: string, max: number, dash: boolean): boolean {
  if (v.length === 0 || v.length > max) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) | 0x20; // lower case for letters
    if (c >= 0x61 && c <= 0x7a) continue; // a-z, A-Z
    const d = v.charCodeAt(i);
    if (d === 0x5f || (i > 0 && ((d >= 0x30 && d <= 0x39) || (dash && d === 0x2d)))) continue; // _ 0-9 -
    return false;
  }
  return true;
}
const identifier = (v: unknown): boolean => typeof v === 'string' && name(v, 64, true);

/**
 * A string of `min` to `max` characters (the schema counts code points, which are never more
 * than the UTF-16 length; a `min` of 1 holds for any non-empty string).
 */
const text = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'string' && v.length >= min && v.length <= max;

const enumOf =
  (...values: string[]) =>
  (v: unknown): boolean =>
    typeof v === 'string' && values.includes(v);

const plainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** `$defs/Env`: at most 256 names of the pattern, each a string, finite number or boolean. */
function envValid(v: unknown): boolean {
  if (!plainObject(v)) return false;
  let count = 0;
  for (const key in v) {
    const value = v[key];
    if (++count > 256 || !name(key, 128, false)) return false;
    if (
      typeof value === 'number'
        ? !Number.isFinite(value)
        : typeof value !== 'string' && typeof value !== 'boolean'
    )
      return false;
  }
  return true;
}

/** An array of at most `max` items, each accepted by `item`. */
function listOf(v: unknown, max: number, item: (x: unknown) => boolean): v is unknown[] {
  if (!Array.isArray(v) || v.length > max) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}

/** `outputs`: identifiers, unique (a quadratic search for the usual few, undecided past 16). */
function outputsValid(v: unknown): boolean {
  if (!listOf(v, 16, identifier)) return false;
  for (let i = 1; i < v.length; i++) if (v.indexOf(v[i], 0) < i) return false;
  return true;
}

const needName = (v: unknown): boolean => text(v, 0, 64);

/** The members the walk decides, each with the schema's rule for it. */
const members: Record<string, (v: unknown) => boolean> = {
  id: identifier,
  description: (v) => text(v, 0, 1024),
  // `oneOf` string or list: a string of this length matches its first branch only.
  run: (v) => text(v, 1, 65536),
  env: envValid,
  needs: (v) => listOf(v, 1024, needName),
  when: (v) => text(v, 1, 4096),
  outputs: outputsValid,
  timeout: (v) => text(v, 0, 64) && duration.test(v as string),
  runner: enumOf('local', 'container', 'kubernetes', 'serverless'),
  resources: enumOf('small', 'medium', 'large', 'xlarge'),
  ifSkipped: enumOf('skip', 'run'),
  onInterrupt: enumOf('retry', 'fail'),
  network: enumOf('none'),
};

/**
 * True when `task` is surely valid: a mapping with an `id` and a `run` string (so the schema's
 * "exactly one of run, uses or image" holds with neither of the others present), whose every
 * member is one the walk decides and valid. False means undecided, not invalid.
 */
export function plainTaskValid(task: unknown): boolean {
  if (!plainObject(task) || task.id === undefined || task.run === undefined) return false;
  // for…in, as ajv's additionalProperties walks the object.
  for (const key in task) {
    const rule = Object.hasOwn(members, key) ? members[key] : undefined;
    if (rule === undefined || !rule(task[key])) return false;
  }
  return true;
}
