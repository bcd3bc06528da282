// Where SIG is and who the task is to it, from inputs and secrets only. The endpoint is a URL
// that may carry credentials (a SIG_INGEST_URL with a token in its path or userinfo): it is
// treated as a secret, never put in a log line or an output (only its origin's host is named).
import { secretIfGiven, TaskError, type TaskClock, type TaskContext } from '../../sdk/index.ts';
import type { SigConnection } from '../../sig/index.ts';

export interface ConnectionInputs {
  endpoint?: string;
  identity?: string;
}

/** The SIG connection: `endpoint` (else the secret SIG_INGEST_URL), `identity` (else SIG_TOKEN). */
export function sigConnection(
  inputs: ConnectionInputs,
  ctx: Pick<TaskContext, 'secret' | 'signal'> & { clock: TaskClock },
): { conn: SigConnection; host: string } {
  const endpoint = inputs.endpoint ?? ctx.secret('SIG_INGEST_URL');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TaskError('sig_endpoint_invalid', 'the SIG endpoint is not a URL', {
      hint: 'pass endpoint: ${secrets.SIG_INGEST_URL} with SIG_INGEST_URL set to http(s)://host:port',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TaskError('sig_endpoint_invalid', `the SIG endpoint is a ${url.protocol} URL, not http(s)`);
  const token = inputs.identity ?? secretIfGiven(ctx, 'SIG_TOKEN');
  return {
    conn: {
      baseUrl: url.href,
      ...(token ? { token } : {}),
      clock: ctx.clock,
      signal: ctx.signal,
    },
    host: url.host,
  };
}
