// tasks/http: one HTTP request, built on the task SDK. Outputs `status` and `bodyDigest`; the body
// is written to `body` in the workspace: declare `artifacts: [body]` on the task to keep it. The
// request and its redirects (each hop under the egress allow-list, MAESTRO_EGRESS_ALLOWED_HOSTS;
// an identity only over TLS beyond loopback) are request.ts's, shared with the engine's `wait`.
// A status >= 400 fails the task (`http_status`) after its outputs are set, unless failOnStatus
// is false.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTask, runMain, secretIfGiven, TaskError } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { HttpTaskError, sendRequest, type HttpResult } from './request.ts';
import { httpSpec } from './spec.ts';

export const http = defineTask({
  name: 'http',
  version: '1.0.0',
  description:
    'Sends an HTTP request; outputs the status and the sha256 digest of the body, and writes the body to the file `body` of the workspace (declare `artifacts: [body]` to keep it).',
  spec: httpSpec,
  async execute(inputs, ctx) {
    const method = inputs.method ?? 'GET';
    // The policy's list is not a secret, but ctx.secret is the SDK's one reader of the environment.
    const env = { MAESTRO_EGRESS_ALLOWED_HOSTS: secretIfGiven(ctx, 'MAESTRO_EGRESS_ALLOWED_HOSTS') };
    await inTaskSpan(
      ctx,
      `HTTP ${method}`,
      { task: 'http', attributes: { 'http.request.method': method, 'server.address': hostOf(inputs.url) } },
      async (span) => {
        let result: HttpResult;
        try {
          result = await sendRequest(inputs, env, (line) => ctx.emit.log(line), ctx.signal);
        } catch (error) {
          if (error instanceof HttpTaskError)
            throw new TaskError(error.code, error.message, { cause: error });
          throw error;
        }
        span.setAttribute('http.response.status_code', result.status);
        const digest = `sha256:${createHash('sha256').update(result.body).digest('hex')}`;
        writeFileSync(join(ctx.workspace, 'body'), result.body);
        ctx.emit.output('status', result.status);
        ctx.emit.output('bodyDigest', digest);
        const where = `${result.method} ${result.url.origin}${result.url.pathname}`;
        ctx.emit.log(`${where} -> ${result.status} (${result.body.byteLength} bytes, ${digest})`);
        if (result.status >= 400 && inputs.failOnStatus !== false)
          throw new TaskError('http_status', `${where} answered ${result.status}`, {
            hint: 'set failOnStatus: false to take an error status as a result',
          });
      },
    );
  },
});

/** The url's host for the span; an invalid url is request.ts's to refuse, with its message. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

if (import.meta.main) await runMain(http, process.env);
