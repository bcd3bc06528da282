/**
 * The one reader of a task's messages file ($MAESTRO_MESSAGES, docs/task-protocol.md):
 * newline-delimited JSON, one message per line, each `{ "v": 1, "type": ..., ... }`. Read once,
 * at the attempt's end, beside the outputs file. What the task wrote is untrusted: nothing here
 * throws for a bad line, an unknown type or a newer version; each becomes a `system` log line
 * saying what was ignored and where, so a broken task is never a silent success and a newer SDK
 * never crashes an older runner.
 *
 * Hand-written rather than a JSON Schema pass per line: each type has two or three fields, and the
 * point is one clear sentence per bad line (line number and field), not ajv's error list.
 */
import { redactValue, Stream, type LogLine, type Redactor } from '../../core/index.ts';
import { LineSplitter } from './line-splitter.ts';
import { takeTaskFile, type TaskFileKind } from './take-outputs-file.ts';

/** The protocol version this reader speaks (the `v` field). */
export const MESSAGES_PROTOCOL_VERSION = 1;

export interface ReadMessages {
  /** `output` messages for declared names (all names when none are declared), later ones winning. */
  outputs: Record<string, string>;
  /** The task's `log` messages and the runner's notes on everything else, redacted, in file order. */
  lines: LogLine[];
  /** The last checkpoint within MAX_STATE_BYTES, as JSON text redacted leaf by leaf. */
  state?: string;
  /** Images the task built and pushed (`image` messages), each `registry/repository@sha256:…`. */
  images?: string[];
}

/**
 * A checkpoint is stored with the attempt's result and handed to its retry, so it is bounded: a
 * connector's cursor, not its data. A larger one is not kept (the log says so, as an error), and
 * the retry starts from the last checkpoint that fitted.
 */
export const MAX_STATE_BYTES = 1 << 20;

type Message = Record<string, unknown>;
type Note = (text: string) => void;

interface Reading {
  declared: readonly string[];
  outputs: Record<string, string>;
  note: Note;
  log: (stream: Stream, text: string) => void;
  redact: Redactor;
  heartbeats: number;
  state?: string;
  images: string[];
}

/** An image message names what was pushed by digest: a tag could be moved before the SBOM is made. */
const PUSHED_IMAGE = /^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9._/-]+@sha256:[a-f0-9]{64}$/;
/** A task cannot make the engine scan and sign an unbounded number of images. */
export const MAX_IMAGES_PER_ATTEMPT = 16;

const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

export function readMessages(
  text: string,
  declared: readonly string[],
  redact: Redactor,
  now: () => number,
): ReadMessages {
  const lines: LogLine[] = [];
  const push = (line: LogLine) => lines.push(line);
  const reading: Reading = {
    declared,
    outputs: {},
    redact,
    heartbeats: 0,
    images: [],
    note: (note) => lines.push({ stream: Stream.system, text: redact(note), time: now() }),
    // Through the one line splitter: a message holding line breaks becomes several lines, each
    // redacted (a multi-line secret included), each within the line cap.
    log: (stream, message) => {
      const splitter = new LineSplitter(stream, redact, push, now);
      splitter.write(message);
      splitter.end();
    },
  };
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = (raw[i] as string).replace(/\r$/, '');
    if (line.trim() !== '') readLine(line, i + 1, reading);
  }
  if (reading.heartbeats > 0) reading.note(`messages: ${reading.heartbeats} heartbeat(s) received`);
  return {
    outputs: reading.outputs,
    lines,
    ...(reading.state === undefined ? {} : { state: reading.state }),
    ...(reading.images.length > 0 ? { images: reading.images } : {}),
  };
}

function readLine(line: string, n: number, r: Reading): void {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return r.note(`messages line ${n}: not JSON; ignored`);
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return r.note(`messages line ${n}: not a JSON object; ignored`);
  const m = message as Message;
  if (m.v !== MESSAGES_PROTOCOL_VERSION)
    return r.note(
      `messages line ${n}: protocol version ${JSON.stringify(m.v ?? null)} is not supported (this runner reads v ${MESSAGES_PROTOCOL_VERSION}); ignored`,
    );
  const handler = typeof m.type === 'string' ? HANDLERS[m.type] : undefined;
  if (!handler)
    return r.note(`messages line ${n}: unknown message type ${JSON.stringify(m.type ?? null)}; ignored`);
  const problem = handler(m, r);
  if (problem) r.note(`messages line ${n} (${m.type as string}): ${problem}; ignored`);
}

/** Each returns a problem to report, or undefined when the message was taken. */
const HANDLERS: Record<string, (m: Message, r: Reading) => string | undefined> = {
  output(m, r) {
    if (typeof m.name !== 'string' || m.name === '') return '"name" must be a non-empty string';
    if (typeof m.value !== 'string') return '"value" must be a string';
    if (r.declared.length > 0 && !r.declared.includes(m.name))
      return `output ${JSON.stringify(m.name)} is not declared (declared: ${r.declared.join(', ')})`;
    r.outputs[m.name] = m.value;
    return undefined;
  },
  log(m, r) {
    if (typeof m.message !== 'string') return '"message" must be a string';
    const level = m.level ?? 'info';
    if (typeof level !== 'string' || !LOG_LEVELS.has(level))
      return '"level" must be one of debug, info, warn, error';
    r.log(level === 'warn' || level === 'error' ? Stream.stderr : Stream.stdout, m.message);
    return undefined;
  },
  metric(m, r) {
    if (typeof m.name !== 'string' || m.name === '') return '"name" must be a non-empty string';
    if (typeof m.value !== 'number' || !Number.isFinite(m.value)) return '"value" must be a finite number';
    const unit = typeof m.unit === 'string' ? ` ${m.unit}` : '';
    r.note(`metric ${m.name}=${m.value}${unit}`);
    return undefined;
  },
  artifact(m, r) {
    if (typeof m.path !== 'string' || m.path === '') return '"path" must be a non-empty string';
    r.note(`artifact reported: ${m.path} (kept only when the manifest declares it under artifacts:)`);
    return undefined;
  },
  progress(m, r) {
    if (m.done !== undefined && typeof m.done !== 'number') return '"done" must be a number';
    if (m.total !== undefined && typeof m.total !== 'number') return '"total" must be a number';
    const of = m.total === undefined ? '' : `/${m.total as number}`;
    const text = typeof m.message === 'string' ? ` ${m.message}` : '';
    r.note(`progress ${m.done === undefined ? '' : `${m.done as number}${of}`}${text}`.trimEnd());
    return undefined;
  },
  image(m, r) {
    if (typeof m.reference !== 'string' || !PUSHED_IMAGE.test(m.reference))
      return '"reference" must name the pushed image by digest (registry/repository@sha256:…)';
    if (r.images.includes(m.reference)) return undefined;
    if (r.images.length >= MAX_IMAGES_PER_ATTEMPT) return `more than ${MAX_IMAGES_PER_ATTEMPT} images`;
    r.images.push(m.reference);
    r.note(`image reported: ${m.reference} (its SBOM is made, signed and stored when the attempt succeeds)`);
    return undefined;
  },
  heartbeat(_m, r) {
    r.heartbeats += 1;
    return undefined;
  },
  state(m, r) {
    if (!('value' in m)) return '"value" is missing';
    // Redacted leaf by leaf before it is serialised (core/redact.ts): a secret in a checkpoint
    // must not reach the log or the store JSON-escaped.
    const shown = JSON.stringify(redactValue(m.value, r.redact));
    const size = Buffer.byteLength(shown);
    if (size > MAX_STATE_BYTES) {
      r.log(
        Stream.stderr,
        `error: state checkpoint of ${size} bytes exceeds the ${MAX_STATE_BYTES}-byte limit; not stored (a retry starts from the previous checkpoint). Checkpoint a cursor, not the data`,
      );
      return undefined;
    }
    r.state = shown;
    r.note(
      `state checkpoint (${size} bytes) received (${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown})`,
    );
    return undefined;
  },
};

/**
 * A messages file holds logs as well as outputs, so it may be larger than an outputs file; it is
 * still read into memory whole at the attempt's end, so it is bounded.
 */
export const MAX_MESSAGES_BYTES = 8 << 20;

const MESSAGES_FILE: TaskFileKind = {
  code: 'messages_file_refused',
  what: "the task's messages file",
  hint: 'append one JSON message per line to the file $MAESTRO_MESSAGES names (docs/task-protocol.md); do not replace it, and log large output to stdout rather than as messages',
};

export interface CollectedMessages extends ReadMessages {
  /** Why the file was refused (a link, not a regular file, too large): the attempt fails. */
  refused?: string;
}

/**
 * Takes the attempt's messages file (no links followed, bounded, removed once read) and reads it.
 * A refused file is not read at all and is reported: the caller fails the attempt, since outputs
 * and logs the task meant to report are missing (never a silent success).
 */
export function collectMessages(
  path: string,
  declared: readonly string[],
  redact: Redactor,
  now: () => number,
  maxBytes = MAX_MESSAGES_BYTES,
): CollectedMessages {
  let text: string;
  try {
    text = takeTaskFile(path, maxBytes, MESSAGES_FILE);
  } catch (error) {
    const refused = redact((error as Error).message);
    return { outputs: {}, lines: [{ stream: Stream.system, text: refused, time: now() }], refused };
  }
  return readMessages(text, declared, redact, now);
}
