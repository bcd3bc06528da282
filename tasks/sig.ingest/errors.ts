// SIG's errors as the task's: the same code, fault and retryable flag, and a message that never
// quotes the endpoint (sig/ names the URL it could not reach; here the URL is a secret).
import { TaskError } from '../../sdk/index.ts';

interface CodedError extends Error {
  code?: unknown;
  fault?: unknown;
  retryable?: unknown;
  hint?: unknown;
  details?: { errors?: Array<{ pointer?: string; message?: string }> };
}

/** Rethrows anything SIG's clients threw as a TaskError naming `host`, never the full URL. */
export function asTaskError(error: unknown, host: string): TaskError {
  if (error instanceof TaskError) return error;
  const e = error as CodedError;
  const code = typeof e?.code === 'string' ? e.code : 'sig_failed';
  const fields = (e?.details?.errors ?? []).map((f) => `${f.pointer ?? ''} ${f.message ?? ''}`.trim());
  const message =
    code === 'sig_unreachable'
      ? `SIG at ${host} could not be reached`
      : `SIG at ${host}: ${e?.message ?? String(error)}${fields.length ? ` (${fields.join('; ')})` : ''}`;
  return new TaskError(code, message, {
    fault: e?.fault === 'system' ? 'system' : 'user',
    retryable: e?.retryable === true,
    ...(typeof e?.hint === 'string' ? { hint: e.hint } : {}),
    cause: error,
  });
}
