/**
 * The serverless runner: one attempt = one synchronous invoke of an AWS Lambda function through the
 * Invoke API (docs/runners.md, "Serverless functions"). The event carries the attempt (its
 * idempotency key first), the task's inputs and environment; the response carries its outputs and
 * messages; the log tail, when the API sends one, becomes the attempt's log.
 */
import { readdirSync } from 'node:fs';
import {
  AttemptOutcome,
  createRedactor,
  resolveNetwork,
  Stream,
  type AttemptResult,
  type LogLine,
  type Redactor,
  type Runner,
  type RunnerHandle,
  type RunnerStartRequest,
} from '../../core/index.ts';
import { cancelledBy, deadlineExceeded, LogChannel } from '../shared/index.ts';
import { classifyInvoke } from './classify.ts';
import { functionFor, type ServerlessRunnerConfig } from './config.ts';
import { CredentialsUnavailable, invoke, readCredentials, secretsOf } from './invoke.ts';
import { Slots } from './slots.ts';

export interface ServerlessRunnerDeps {
  now?: () => number;
}

/** Version of the event and response shapes (docs/runners.md). */
export const FUNCTION_PROTOCOL_VERSION = 1;

const ISOLATION_REASON = "a serverless function: isolation is the function platform's, not Maestro's";

type Refusal = { reason: string; message: string; retryable?: boolean };

function hasFiles(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/**
 * What the runner cannot do for this attempt, checked before anything is sent. A function always
 * has the network and shares no disk with the engine, so an attempt that must have no network,
 * or that receives artifacts without an object store to fetch them from, is refused (fail closed).
 */
function refusalOf(request: RunnerStartRequest, fn: string | undefined): Refusal | undefined {
  if (!fn)
    return {
      reason: 'FunctionNotMapped',
      message: `no function for task ${request.taskId}: the runners file's serverless section names none (\`function\` or \`functions.${request.taskId}\`)`,
    };
  if (resolveNetwork(request) === 'none')
    return {
      reason: 'NetworkNotEnforceable',
      message:
        'this attempt must have no network (an untrusted run, or `network: none`), which a serverless function cannot be held to',
    };
  if (hasFiles(request.artifactsDir) && !request.received?.length)
    return {
      reason: 'ArtifactsNeedObjectStore',
      message:
        'the task receives artifacts, which a function can fetch only from an object store (MAESTRO_ARTIFACT_STORE)',
    };
  return undefined;
}

function inputsOf(env: Record<string, string>): unknown {
  const text = env.MAESTRO_INPUTS;
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The event: the attempt, the idempotency key, and what a task is given. No runner credential. */
export function eventOf(request: RunnerStartRequest): Record<string, unknown> {
  const { MAESTRO_INPUTS: _inputs, ...env } = request.env;
  return {
    maestro: FUNCTION_PROTOCOL_VERSION,
    idempotencyKey: request.attemptId,
    attempt: {
      runId: request.runId,
      taskId: request.taskId,
      attempt: request.attempt,
      attemptId: request.attemptId,
      namespace: request.namespace,
    },
    inputs: inputsOf(request.env),
    env,
    command: request.command,
    outputs: request.outputs,
    ...(request.state === undefined ? {} : { state: JSON.parse(request.state) as unknown }),
    ...(request.received?.length || request.keep
      ? { artifacts: { received: request.received ?? [], ...(request.keep ? { keep: request.keep } : {}) } }
      : {}),
  };
}

function refused(refusal: Refusal, now: () => number): AttemptResult {
  const t = now();
  return {
    outcome: AttemptOutcome.runnerError,
    exitCode: null,
    retryable: refusal.retryable ?? false,
    reason: refusal.reason,
    message: refusal.message,
    outputs: {},
    startedAt: t,
    finishedAt: t,
  };
}

function finishedHandle(result: AttemptResult, line: LogLine): RunnerHandle {
  return {
    async *logs() {
      yield line;
    },
    wait: async () => result,
    cancel: async () => {},
  };
}

export function createServerlessRunner(
  config: ServerlessRunnerConfig,
  deps: ServerlessRunnerDeps = {},
): Runner {
  const now = deps.now ?? Date.now;
  const slots = new Slots(config.concurrency);
  return {
    kind: 'serverless',
    // Its tasks share no disk with the engine: artifacts travel as URLs in the event.
    fetchesReceived: true,
    uploadsKept: true,
    posture: () => ({ privileged: false, hostNetwork: false }),
    async start(request) {
      const fn = functionFor(config, request.taskId);
      let redact: Redactor;
      let refusal = refusalOf(request, fn);
      try {
        redact = createRedactor([...request.redact, ...secretsOf(readCredentials(config.credentialsFile))]);
      } catch (error) {
        if (!(error instanceof CredentialsUnavailable)) throw error;
        redact = createRedactor(request.redact);
        refusal ??= { reason: 'CredentialsUnavailable', message: error.message };
      }
      if (refusal) {
        const result = refused({ ...refusal, message: redact(refusal.message) }, now);
        return finishedHandle(result, {
          stream: Stream.system,
          text: result.message!,
          time: result.startedAt,
        });
      }
      return startInvoke(config, slots, { request, fn: fn!, redact, now });
    },
  };
}

interface Invocation {
  request: RunnerStartRequest;
  fn: string;
  redact: Redactor;
  now: () => number;
}

function startInvoke(config: ServerlessRunnerConfig, slots: Slots, inv: Invocation): RunnerHandle {
  const { request, redact, now } = inv;
  const channel = new LogChannel();
  const system = (text: string) => channel.push({ stream: Stream.system, text: redact(text), time: now() });
  const controller = new AbortController();
  const deadlineMs = Math.min(request.timeoutMs ?? Infinity, config.timeoutMs);
  let stopped: { kind: 'timeout' } | { kind: 'cancel'; reason: string } | undefined;
  const timer = setTimeout(() => {
    stopped ??= { kind: 'timeout' };
    controller.abort(new Error('deadline'));
  }, deadlineMs);
  const startedAt = now();
  system(`serverless: invoking function ${inv.fn} (idempotency key ${request.attemptId})`);
  const done = (async (): Promise<AttemptResult> => {
    const isolation = { sandbox: 'none' as const, network: 'on' as const, reason: ISOLATION_REASON };
    const end = (fields: Omit<AttemptResult, 'startedAt' | 'finishedAt' | 'isolation'>) => {
      clearTimeout(timer);
      if (fields.message) system(`serverless: ${fields.reason ?? fields.outcome}: ${fields.message}`);
      channel.close();
      return { ...fields, startedAt, finishedAt: now(), isolation };
    };
    const payload = JSON.stringify(eventOf(request));
    try {
      const response = await slots.run(controller.signal, () =>
        invoke(
          config,
          {
            functionName: inv.fn,
            payload,
            clientContext: { custom: { 'maestro-idempotency-key': request.attemptId } },
            signal: controller.signal,
          },
          (why) => system(`serverless: ${why}`),
        ),
      );
      const verdict = classifyInvoke(response, request.outputs, redact, now);
      for (const line of verdict.lines) channel.push(line);
      const { lines: _lines, ...fields } = verdict;
      return end(fields);
    } catch (error) {
      const base = { exitCode: null, outputs: {} };
      if (stopped?.kind === 'timeout')
        return end({
          ...base,
          ...deadlineExceeded(
            `no answer within ${deadlineMs} ms; the function may run on until its own timeout (the Invoke API cannot stop an invocation)`,
          ),
        });
      if (stopped?.kind === 'cancel') return end({ ...base, ...cancelledBy(stopped.reason) });
      const credentials = error instanceof CredentialsUnavailable;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return end({
        ...base,
        outcome: AttemptOutcome.runnerError,
        retryable: !credentials,
        reason: credentials ? 'CredentialsUnavailable' : 'InvokeFailed',
        message: redact(
          credentials
            ? (error as Error).message
            : `the invoke failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
        ),
      });
    }
  })();
  return {
    logs: () => channel,
    wait: () => done,
    async cancel(reason) {
      stopped ??= { kind: 'cancel', reason };
      controller.abort(new Error('cancelled'));
      await done;
    },
  };
}
