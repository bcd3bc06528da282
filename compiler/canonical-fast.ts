import { createHash, hash } from 'node:crypto';
import type { Plan, PlanTask } from '../core/index.ts';

/**
 * RFC 8785 canonical JSON, the same algorithm as core's `canonicalJson` (keys sorted by UTF-16
 * code units, JSON.stringify for strings and numbers), fast: when every object in the value
 * already enumerates its keys in canonical order (the planner builds them so), it is exactly
 * `JSON.stringify`. Otherwise it serialises node by node. Tests check byte-identical output to
 * core's `canonicalJson` and that `digestOf(plan without digest)` equals the plan's digest.
 */
export function canonicalFast(value: unknown): string {
  return isCanonicalOrder(value) ? JSON.stringify(value) : canonicalSlow(value);
}

/** True when JSON.stringify(value) is already its canonical JSON; throws on unrepresentable values. */
function isCanonicalOrder(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
      return true;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('NaN and Infinity are not allowed');
      return true;
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const item of value) if (item === undefined || !isCanonicalOrder(item)) return false;
        return true;
      }
      let previous: string | undefined;
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) return false;
        if (!key.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
        const item = (value as Record<string, unknown>)[key];
        if (item !== undefined && !isCanonicalOrder(item)) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

function canonicalSlow(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('NaN and Infinity are not allowed');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : canonicalSlow(item));
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        out += `${first ? '' : ','}${canonicalSlow(key)}:${canonicalSlow(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be represented as JSON`);
  }
}

/** `sha256:<hex>` like core's sha256Digest, through the one-shot hash (no Hash object per call). */
function sha256(text: string): string {
  return `sha256:${hash('sha256', text, 'hex')}`;
}

/** True when every object of user data (`with`, `env`, labels, defaults) enumerates keys in canonical order. */
export function userDataInOrder(value: unknown): boolean {
  return value === undefined || isCanonicalOrder(value);
}

/**
 * Seals a task: its `definitionDigest` is the digest of its canonical JSON without that field.
 * The planner builds the task with keys in sorted order and `definitionDigest: undefined` in its
 * position (canonical JSON and JSON.stringify both skip undefined members); when the user data in
 * it is in canonical order too (`ordered`), JSON.stringify is its canonical JSON. Returns the
 * task's full canonical text too, so the plan digest does not serialise the tasks again.
 */
export function sealTask(task: PlanTask, ordered: boolean): string {
  const text = ordered ? JSON.stringify(task) : canonicalSlow(task);
  task.definitionDigest = sha256(text);
  // `definitionDigest` sorts right after `declaredId`. The first `,"declaredId":<id>` is the
  // top-level member: inside strings every quote is escaped, and no nested object before it
  // (`action`, `cache`) has a `declaredId` key.
  const member = `,"declaredId":${JSON.stringify(task.declaredId)}`;
  const at = text.indexOf(member) + member.length;
  return `${text.slice(0, at)},"definitionDigest":${JSON.stringify(task.definitionDigest)}${text.slice(at)}`;
}

/** Stands in for the tasks while serialising the rest of the plan; see planDigest. */
const tasksSentinel = '\ud800tasks';

/**
 * The plan's digest: sha256 of its canonical JSON without `digest` (undefined while computed).
 * The tasks' texts from sealTask are spliced in where a sentinel string stands: JSON.stringify
 * writes it as `"\ud800tasks"`, and no user string can produce `:"\ud800` (lone surrogates
 * are refused by the guard, and other escapes are `\u00xx`).
 */
export function planDigest(plan: Plan, ordered: boolean, taskTexts: readonly string[]): string {
  if (!ordered) return sha256(canonicalSlow(plan));
  const text = JSON.stringify({ ...plan, tasks: tasksSentinel as unknown as Plan['tasks'] });
  const marker = '"tasks":"\\ud800tasks"';
  const at = text.lastIndexOf(marker);
  // Hashed piece by piece: the same bytes as the joined text, without building a copy of it.
  const digest = createHash('sha256');
  digest.update(`${text.slice(0, at)}"tasks":[`);
  for (let i = 0; i < taskTexts.length; i++)
    digest.update(i === 0 ? (taskTexts[i] as string) : `,${taskTexts[i] as string}`);
  digest.update(`]${text.slice(at + marker.length)}`);
  return `sha256:${digest.digest('hex')}`;
}
