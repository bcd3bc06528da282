import { createHash, hash } from 'node:crypto';
import type { PlanTask } from '../core/index.ts';

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

/**
 * The plan's digest, hashed as the plan is written: sha256 of its canonical JSON without
 * `digest`. The members that sort before `tasks` (`head`, with `digest` undefined) and after it
 * (`tail`) are serialised on their own, and each task's text (sealTask) is hashed as soon as the
 * task is sealed: no text outlives its task, and no copy of the plan or of its ~2 MB of task
 * texts is built. Canonical JSON is the same bytes whichever way it is cut.
 */
export class PlanHasher {
  private readonly digest = createHash('sha256');
  private tasks = 0;

  /** `ordered`: the user data in `head` enumerates in canonical order (userDataInOrder). */
  constructor(head: object, ordered: boolean) {
    const text = ordered ? JSON.stringify(head) : canonicalSlow(head);
    // `head` always holds `apiVersion`: its text is `{…}` with at least one member.
    this.digest.update(`${text.slice(0, -1)},"tasks":[`);
  }

  task(text: string): void {
    this.digest.update(this.tasks++ === 0 ? text : `,${text}`);
  }

  /** `tail` always holds `triggers` and `workflow`. */
  finish(tail: object, ordered: boolean): string {
    const text = ordered ? JSON.stringify(tail) : canonicalSlow(tail);
    this.digest.update(`],${text.slice(1)}`);
    return `sha256:${this.digest.digest('hex')}`;
  }
}
