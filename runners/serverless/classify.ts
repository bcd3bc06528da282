/**
 * What an Invoke API answer means for the attempt, as a pure function (like the Kubernetes
 * runner's classify.ts): status, `X-Amz-Function-Error`, the log tail and the function's response
 * (docs/runners.md, "Serverless functions") in; outputs, log lines and an ending out.
 */
import { AttemptOutcome, Stream, type LogLine, type Redactor } from '../../core/index.ts';
import {
  deadlineExceeded,
  LineSplitter,
  nonZeroExit,
  parseOutputsFile,
  readMessages,
} from '../shared/index.ts';
import type { InvokeResponse } from './invoke.ts';

export interface Verdict {
  outcome: AttemptOutcome;
  exitCode: number | null;
  retryable: boolean;
  reason?: string;
  message?: string;
  outputs: Record<string, string>;
  lines: LogLine[];
  state?: string;
}

type Ending = Pick<Verdict, 'outcome' | 'retryable' | 'reason' | 'message'>;

/** Invoke API statuses that mean the request, not the function, failed. */
const REQUEST_ENDINGS: Record<number, Omit<Ending, 'message'>> = {
  400: { outcome: AttemptOutcome.runnerError, retryable: false, reason: 'InvokeRejected' },
  401: { outcome: AttemptOutcome.runnerError, retryable: false, reason: 'InvokeForbidden' },
  403: { outcome: AttemptOutcome.runnerError, retryable: false, reason: 'InvokeForbidden' },
  404: { outcome: AttemptOutcome.runnerError, retryable: false, reason: 'FunctionNotFound' },
  413: { outcome: AttemptOutcome.runnerError, retryable: false, reason: 'EventTooLarge' },
  429: { outcome: AttemptOutcome.runnerError, retryable: true, reason: 'Throttled' },
};

/**
 * Lambda reports a function's timeout as a function error whose type is `Sandbox.Timedout` (or,
 * from older runtimes and the emulator, only the text "Task timed out after N seconds"). There is
 * no other signal in the API, so this one text is matched, here only.
 */
const TIMED_OUT = /Task timed out after [\d.]+ seconds/;

function logLines(text: string, stream: Stream, redact: Redactor, now: () => number): LogLine[] {
  const lines: LogLine[] = [];
  const splitter = new LineSplitter(stream, redact, (line) => lines.push(line), now);
  splitter.write(text);
  splitter.end();
  return lines;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Lambda's error payload, `{ errorType, errorMessage }`: the emulator sends it without the header. */
function lambdaError(payload: unknown): { type: string; message: string } | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  if (typeof p.errorMessage !== 'string' && typeof p.errorType !== 'string') return undefined;
  return { type: String(p.errorType ?? 'Error'), message: String(p.errorMessage ?? '') };
}

function functionFailed(error: { type: string; message: string }, redact: Redactor): Ending {
  if (error.type === 'Sandbox.Timedout' || TIMED_OUT.test(error.message))
    return deadlineExceeded(`the function timed out: ${redact(error.message)}`);
  // Like a non-zero exit: the runner cannot tell a flaky function from a broken one.
  return {
    outcome: AttemptOutcome.failed,
    retryable: true,
    reason: 'FunctionError',
    message: redact(`${error.type}: ${error.message}`).slice(0, 2000),
  };
}

/** The function's own response: outputs as an object, as $MAESTRO_OUTPUT text, and messages. */
function taken(payload: Record<string, unknown>, declared: string[], redact: Redactor, now: () => number) {
  const notes: string[] = [];
  const outputs: Record<string, string> = {};
  if (payload.outputs !== undefined) {
    const given = typeof payload.outputs === 'object' && payload.outputs !== null ? payload.outputs : {};
    for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
      if (declared.length > 0 && !declared.includes(name)) continue;
      if (typeof value === 'string') outputs[name] = value;
      else notes.push(`output ${JSON.stringify(name)} is not a string; ignored`);
    }
  }
  if (typeof payload.outputsText === 'string') {
    const parsed = parseOutputsFile(payload.outputsText, declared);
    Object.assign(outputs, parsed.outputs);
    notes.push(...parsed.problems);
  }
  const read =
    typeof payload.messages === 'string' ? readMessages(payload.messages, declared, redact, now) : undefined;
  Object.assign(outputs, read?.outputs ?? {});
  const lines = [
    ...(read?.lines ?? []),
    ...notes.map((n) => ({ stream: Stream.system, text: redact(n), time: now() })),
  ];
  const redacted = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, redact(v)]));
  return { outputs: redacted, lines, ...(read?.state === undefined ? {} : { state: read.state }) };
}

export function classifyInvoke(
  response: InvokeResponse,
  declared: string[],
  redact: Redactor,
  now: () => number,
): Verdict {
  const tail = response.logResult
    ? logLines(Buffer.from(response.logResult, 'base64').toString('utf8'), Stream.stdout, redact, now)
    : [];
  const base = { exitCode: null, outputs: {}, lines: tail };
  const request = REQUEST_ENDINGS[response.status];
  if (request || response.status < 200 || response.status >= 300) {
    const ending = request ?? {
      outcome: AttemptOutcome.runnerError,
      retryable: true,
      reason: 'InvokeFailed',
    };
    return {
      ...base,
      ...ending,
      message: redact(`Invoke API answered HTTP ${response.status}: ${response.body.slice(0, 500)}`),
    };
  }
  const payload = parseJson(response.body);
  const error = lambdaError(payload);
  if (response.functionError || error)
    return {
      ...base,
      ...functionFailed(
        error ?? { type: response.functionError ?? 'Unhandled', message: response.body },
        redact,
      ),
    };
  if (payload === undefined && TIMED_OUT.test(response.body))
    return { ...base, ...deadlineExceeded(`the function timed out: ${response.body.slice(0, 200)}`) };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return {
      ...base,
      outcome: AttemptOutcome.failed,
      retryable: false,
      reason: 'FunctionResponseInvalid',
      message: 'the function did not return a JSON object (docs/runners.md, "Serverless functions")',
    };
  const got = taken(payload as Record<string, unknown>, declared, redact, now);
  const exitCode = (payload as Record<string, unknown>).exitCode ?? 0;
  const lines = [...tail, ...got.lines];
  const result = { outputs: got.outputs, lines, ...(got.state === undefined ? {} : { state: got.state }) };
  if (typeof exitCode !== 'number' || !Number.isInteger(exitCode))
    return {
      ...result,
      exitCode: null,
      outcome: AttemptOutcome.failed,
      retryable: false,
      reason: 'FunctionResponseInvalid',
      message: '`exitCode` must be a whole number',
    };
  if (exitCode !== 0) return { ...result, exitCode, ...nonZeroExit(exitCode) };
  return { ...result, exitCode: 0, outcome: AttemptOutcome.succeeded, retryable: false };
}
