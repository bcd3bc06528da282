/**
 * The task → runner messages of docs/task-protocol.md (v1), and where they are written: the file
 * `MAESTRO_MESSAGES` names (one JSON object per line), or, where a runner does not set it yet
 * (Kubernetes), the older channels: outputs into `MAESTRO_OUTPUT`, everything else on stderr.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';

export const PROTOCOL_VERSION = 1;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Message =
  | { v: 1; type: 'output'; name: string; value: string }
  | { v: 1; type: 'log'; level: LogLevel; message: string }
  | { v: 1; type: 'metric'; name: string; value: number; unit?: string }
  | { v: 1; type: 'artifact'; path: string }
  | { v: 1; type: 'image'; reference: string }
  | { v: 1; type: 'progress'; done?: number; total?: number; message?: string }
  | { v: 1; type: 'heartbeat' }
  | { v: 1; type: 'state'; value: unknown };

/** Where a task's messages go. Writes are synchronous: a task killed after a write lost nothing. */
export interface MessageSink {
  write(message: Message): void;
}

/**
 * Appends each message as one line (O_APPEND: whole lines even if a task's child writes too).
 * `time` is added from the task's clock.
 */
export function fileSink(path: string, now: () => number): MessageSink {
  return { write: (message) => appendFileSync(path, `${JSON.stringify({ ...message, time: now() })}\n`) };
}

export interface FallbackTargets {
  /** `MAESTRO_OUTPUT`, when set; else outputs are printed on stdout as `name=value`. */
  outputFile: string | undefined;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * Without `MAESTRO_MESSAGES`: outputs in the `name<<DELIMITER` form (a value may hold any
 * character, and a random delimiter cannot occur in it by accident), logs on stderr
 * (`warn:`/`error:` prefixed), and the rest as plain stderr lines the runner keeps in the log.
 */
export function fallbackSink(targets: FallbackTargets): MessageSink {
  return {
    write(message) {
      if (message.type === 'output') {
        if (targets.outputFile === undefined) return targets.stdout(`${message.name}=${message.value}\n`);
        const delimiter = `MAESTRO_${randomBytes(12).toString('hex')}`;
        appendFileSync(targets.outputFile, `${message.name}<<${delimiter}\n${message.value}\n${delimiter}\n`);
        return;
      }
      targets.stderr(`${describe(message)}\n`);
    },
  };
}

function describe(message: Exclude<Message, { type: 'output' }>): string {
  switch (message.type) {
    case 'log':
      return message.level === 'warn' || message.level === 'error'
        ? `${message.level}: ${message.message}`
        : message.message;
    case 'metric':
      return `metric ${message.name}=${message.value}${message.unit ? ` ${message.unit}` : ''}`;
    case 'artifact':
      return `artifact reported: ${message.path}`;
    case 'image':
      return `image reported: ${message.reference}`;
    case 'progress':
      return `progress ${message.done ?? ''}${message.total === undefined ? '' : `/${message.total}`} ${message.message ?? ''}`.trimEnd();
    case 'heartbeat':
      return 'heartbeat';
    case 'state':
      return `state checkpoint (${JSON.stringify(message.value).length} bytes)`;
  }
}

/** The harness's sink: every message kept, in order. */
export function memorySink(into: Message[]): MessageSink {
  return { write: (message) => void into.push(message) };
}

/** Output values are strings on the wire: a string as it is, anything else as JSON text. */
export function outputText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
