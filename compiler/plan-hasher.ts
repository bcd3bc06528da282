import { createHash, hash } from 'node:crypto';
import type { PlanTask } from '../core/index.ts';
import { canonicalText } from './canonical-fast.ts';

/** `,"definitionDigest":"sha256:` + 64 hex digits + `"`: the member sealing inserts, always this long. */
const digestKey = ',"definitionDigest":"sha256:';
const digestMemberBytes = digestKey.length + 64 + 1;
const chunkBytes = 1 << 16;
/** The buffer of the last finished hasher, taken by the next: one 64 KB allocation per process, not per plan. */
let spare: Buffer | undefined;

/**
 * The plan's digest, hashed as the plan is written: sha256 of its canonical JSON without
 * `digest`. The members that sort before `tasks` (`head`, with `digest` undefined) and after it
 * (`tail`) are serialised on their own; each task is sealed and its text hashed as it is built.
 * Canonical JSON is the same bytes whichever way it is cut.
 *
 * Task texts are written as UTF-8 into one reused buffer, which is hashed 64 KB at a time: a
 * task's sealed text is never built as a string (its definition digest is spliced into the
 * bytes), and the stream sees a few dozen updates instead of one per task.
 */
export class PlanHasher {
  private readonly digest = createHash('sha256');
  private buffer: Buffer;
  private used = 0;
  private tasks = 0;

  /** `ordered`: the user data in `head` enumerates in canonical order (userDataInOrder). */
  constructor(head: object, ordered: boolean) {
    // Taken, not shared: a hasher that never finishes (a throw) keeps it, and the next allocates.
    this.buffer = spare ?? Buffer.allocUnsafe(chunkBytes);
    spare = undefined;
    const text = canonicalText(head, ordered);
    // `head` always holds `apiVersion`: its text is `{…}` with at least one member.
    this.digest.update(`${text.slice(0, -1)},"tasks":[`);
  }

  /**
   * Seals `task` (its `definitionDigest` is the digest of its canonical JSON without that field)
   * and adds its full text to the plan's stream. The planner builds the task with keys in sorted
   * order and `definitionDigest: undefined` in its position (canonical JSON and JSON.stringify
   * both skip undefined members); `ordered`: its user data is in canonical order too.
   */
  task(task: PlanTask, ordered: boolean): void {
    const text = canonicalText(task, ordered);
    // The one-shot hash of the string is faster than of a view of the buffer (no view to make).
    const hex = hash('sha256', text, 'hex');
    task.definitionDigest = `sha256:${hex}`;
    let at = this.reserve(1 + 3 * text.length + digestMemberBytes);
    if (this.tasks++ > 0) this.buffer[at++] = 0x2c; // ','
    const buffer = this.buffer;
    const length = buffer.write(text, at);
    const split = at + splitOffset(text, task.declaredId, length);
    // Open the gap for the digest member and write it there: ASCII, so UTF-8 is its bytes, and
    // `write` without an encoding takes its fast path (latin1 looks the encoding up per call).
    // The key with `sha256:`, then the hex digits: the task's `sha256:…` string stays as built
    // (writing it would flatten it, one more 88-byte string kept per task).
    buffer.copyWithin(split + digestMemberBytes, split, at + length);
    const value = buffer.write(digestKey, split) + split;
    buffer[value + buffer.write(hex, value)] = 0x22; // '"'
    this.used = at + length + digestMemberBytes;
  }

  /** `tail` always holds `triggers` and `workflow`. */
  finish(tail: object, ordered: boolean): string {
    this.flush();
    if (this.buffer.length === chunkBytes) spare = this.buffer;
    const text = canonicalText(tail, ordered);
    this.digest.update(`],${text.slice(1)}`);
    return `sha256:${this.digest.digest('hex')}`;
  }

  /** Room for `bytes` more at the end of the buffer (flushing it, or growing it for a huge task). */
  private reserve(bytes: number): number {
    if (this.used + bytes > this.buffer.length) {
      this.flush();
      if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
    }
    return this.used;
  }

  private flush(): void {
    if (this.used > 0) this.digest.update(this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

/**
 * The byte offset in the task's UTF-8 text after its `"declaredId"` member, where
 * `definitionDigest` (the next key in sorted order) goes. The first `,"declaredId":<id>` is the
 * top-level member: inside strings every quote is escaped, and no nested object before it
 * (`action`, `cache`) has a `declaredId` key. `bytes`: the text's UTF-8 length; when it equals
 * the text's length the text is ASCII and offsets in both agree.
 */
function splitOffset(text: string, declaredId: string, bytes: number): number {
  // An identifier (the schema's pattern) is its own JSON text in quotes: no member string to build.
  const member = plainId.test(declaredId) ? declaredIdKey : `,"declaredId":${JSON.stringify(declaredId)}`;
  const at =
    text.indexOf(member) + (member === declaredIdKey ? member.length + declaredId.length + 1 : member.length);
  return bytes === text.length ? at : Buffer.byteLength(text.slice(0, at));
}

const declaredIdKey = ',"declaredId":"';
const plainId = /^[A-Za-z0-9_-]*$/;
