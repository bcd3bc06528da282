// tasks/http: one HTTP request, built on the task SDK. Outputs `status` and `bodyDigest`; the body
// is written to `body` in the workspace: declare `artifacts: [body]` on the task to keep it. The
// request and its redirects (each hop under the egress allow-list, MAESTRO_EGRESS_ALLOWED_HOSTS;
// an identity only over TLS beyond loopback) are request.ts's, shared with the engine's `wait`.
// With `retry`, a retryable status or a failed send is tried again (retry.ts: Retry-After, backoff,
// bounded by the task's deadline). A request with side effects carries an Idempotency-Key
// (idempotency.ts). A status >= 400 fails the task (`http_status`) after its outputs are set,
// unless failOnStatus is false; `successWhen` (CEL, condition.ts) then decides instead.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defineTask,
  runMain,
  secretIfGiven,
  TaskError,
  type Infer,
  type TaskContext,
} from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { conditionProblem, evaluateCondition } from './condition.ts';
import { idempotencyKey, keyInHeaders } from './idempotency.ts';
import { HttpTaskError, sendRequest, type HttpResult } from './request.ts';
import { retryPolicy, withRetries } from './retry.ts';
import { httpSpec } from './spec.ts';

type Inputs = Infer<typeof httpSpec.inputs>;

export const http = defineTask({
  name: 'http',
  version: '1.2.0',
  description:
    'Sends an HTTP request; outputs the status and the sha256 digest of the body, and writes the body to the file `body` of the workspace (declare `artifacts: [body]` to keep it).',
  spec: httpSpec,
  validate(inputs) {
    const problem = inputs.successWhen === undefined ? undefined : conditionProblem(inputs.successWhen);
    return problem === undefined
      ? { ok: true, errors: [] }
      : {
          ok: false,
          errors: [{ path: '/successWhen', message: `is not a usable CEL condition: ${problem}` }],
        };
  },
  async execute(inputs, ctx) {
    const method = inputs.method ?? 'GET';
    await inTaskSpan(
      ctx,
      `HTTP ${method}`,
      { task: 'http', attributes: { 'http.request.method': method, 'server.address': hostOf(inputs.url) } },
      async (span) => {
        const { result, resends } = await exchange(inputs, ctx);
        span.setAttribute('http.response.status_code', result.status);
        if (resends > 0) span.setAttribute('http.request.resend_count', resends);
        const digest = `sha256:${createHash('sha256').update(result.body).digest('hex')}`;
        writeFileSync(join(ctx.workspace, 'body'), result.body);
        ctx.emit.output('status', result.status);
        ctx.emit.output('bodyDigest', digest);
        const where = `${result.method} ${result.url.origin}${result.url.pathname}`;
        ctx.emit.log(`${where} -> ${result.status} (${result.body.byteLength} bytes, ${digest})`);
        judge(inputs, result, where);
      },
    );
  },
});

/**
 * Whether the response is a success: failOnStatus (default true, false with successWhen), then
 * successWhen. What a failure says is the status and size, never the headers or body (either may
 * hold a secret the server echoed).
 */
function judge(inputs: Inputs, result: HttpResult, where: string): void {
  const failOnStatus = inputs.failOnStatus ?? inputs.successWhen === undefined;
  if (result.status >= 400 && failOnStatus)
    throw new TaskError('http_status', `${where} answered ${result.status}`, {
      hint: 'set failOnStatus: false to take an error status as a result',
    });
  if (inputs.successWhen === undefined) return;
  const held = evaluateCondition(inputs.successWhen, result);
  const seen = `${where} answered ${result.status} (${result.body.byteLength} bytes)`;
  if (typeof held === 'string')
    throw new TaskError(
      'condition_error',
      `successWhen could not be evaluated on the response: ${held}; ${seen}`,
      {
        hint: 'guard optional fields with has(), e.g. has(json.state) && json.state == "ready"',
      },
    );
  if (!held)
    throw new TaskError(
      'condition_false',
      `successWhen ${JSON.stringify(inputs.successWhen)} is false: ${seen}`,
    );
}

/** The request, with its retries; request.ts's and retry.ts's refusals become the task's errors. */
async function exchange(inputs: Inputs, ctx: TaskContext): Promise<{ result: HttpResult; resends: number }> {
  // Neither is a secret, but ctx.secret is the SDK's one reader of the environment.
  const env = { MAESTRO_EGRESS_ALLOWED_HOSTS: secretIfGiven(ctx, 'MAESTRO_EGRESS_ALLOWED_HOSTS') };
  const deadline = deadlineOf(secretIfGiven(ctx, 'MAESTRO_DEADLINE'));
  const log = (line: string) => ctx.emit.log(line);
  const method = inputs.method ?? 'GET';
  const headers = { ...inputs.headers };
  if (keyInHeaders(headers) === undefined) {
    const ids = {
      runId: secretIfGiven(ctx, 'MAESTRO_RUN_ID'),
      taskId: secretIfGiven(ctx, 'MAESTRO_TASK_ID'),
    };
    const key = idempotencyKey(method, inputs.idempotencyKey, ids);
    if (key !== undefined) headers['idempotency-key'] = key;
  }
  const keyed = keyInHeaders(headers) !== undefined;
  const notRetriable =
    (method === 'POST' || method === 'PATCH') && !keyed
      ? `${method} is not idempotent and no Idempotency-Key is sent`
      : undefined;
  try {
    return await withRetries(
      retryPolicy(inputs.retry),
      {
        clock: ctx.clock,
        signal: ctx.signal,
        log,
        heartbeat: () => ctx.heartbeat(),
        ...(deadline === undefined ? {} : { deadline }),
        ...(notRetriable === undefined ? {} : { notRetriable }),
      },
      () => sendRequest({ ...inputs, headers }, env, log, ctx.signal),
    );
  } catch (error) {
    if (error instanceof HttpTaskError) throw new TaskError(error.code, error.message, { cause: error });
    throw error;
  }
}

/** MAESTRO_DEADLINE (RFC 3339, set by the engine when the task has a timeout) as epoch ms. */
function deadlineOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}

/** The url's host for the span; an invalid url is request.ts's to refuse, with its message. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

if (import.meta.main) await runMain(http, process.env);
