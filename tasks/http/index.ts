// tasks/http: one HTTP request. Outputs `status` and `bodyDigest`; the body is written to `body` in the
// workspace (the working directory): declare `artifacts: [body]` on the task to keep it.
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { HttpTaskError, sendRequest, type HttpInputs } from './request.ts';

const inputs = JSON.parse(process.env.MAESTRO_INPUTS ?? '{}') as HttpInputs;
try {
  const result = await sendRequest(inputs, process.env, (line) => process.stdout.write(`${line}\n`));
  const digest = `sha256:${createHash('sha256').update(result.body).digest('hex')}`;
  writeFileSync('body', result.body);
  if (process.env.MAESTRO_OUTPUT)
    appendFileSync(process.env.MAESTRO_OUTPUT, `status=${result.status}\nbodyDigest=${digest}\n`);
  process.stdout.write(
    `${result.method} ${result.url.origin}${result.url.pathname} -> ${result.status} (${result.body.byteLength} bytes, ${digest})\n`,
  );
  if (result.status >= 400 && inputs.failOnStatus !== false) process.exitCode = 1;
} catch (error) {
  if (!(error instanceof HttpTaskError)) throw error;
  process.stderr.write(`http: ${error.message}\n`);
  process.exitCode = 1;
}
