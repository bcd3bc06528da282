// The grpc task's input rules a schema cannot say: where the descriptors come from, a server URL
// without credentials, and no credential in the plain metadata (with: is stored with the plan;
// a secret belongs in metadataSecrets, whose values name environment variables).
import { isLoopbackHost } from '../../core/index.ts';
import { TaskError, type ValidationIssue, type ValidationResult } from '../../sdk/index.ts';
import { checkCaInputs, type CaInputs } from '../tls/read-ca.ts';

const CREDENTIAL_KEYS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/;
const RESERVED = /^(grpc-|:)|^(content-type|te|user-agent|host)$/;

interface Inputs extends CaInputs {
  url: string;
  protoFiles?: readonly string[];
  includeDirs?: readonly string[];
  reflection?: boolean;
  metadata?: Readonly<Record<string, string>>;
  metadataSecrets?: Readonly<Record<string, string>>;
}

export function checkInputs(inputs: Inputs): ValidationResult {
  const errors: ValidationIssue[] = [];
  if (inputs.reflection === true && inputs.protoFiles)
    errors.push({ path: '/protoFiles', message: 'give protoFiles or reflection: true, not both' });
  if (inputs.reflection !== true && !inputs.protoFiles)
    errors.push({ path: '/protoFiles', message: 'give protoFiles, or reflection: true' });
  if (inputs.includeDirs && !inputs.protoFiles)
    errors.push({ path: '/includeDirs', message: 'includeDirs is for protoFiles' });
  const url = parse(inputs.url);
  if (!url) errors.push({ path: '/url', message: 'not a URL' });
  else if (url.username || url.password)
    errors.push({ path: '/url', message: 'holds credentials, which with: would store with the plan' });
  else if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    errors.push({ path: '/url', message: 'give the server only (scheme, host, port): no path or query' });
  else if (
    url.protocol === 'http:' &&
    Object.keys(inputs.metadataSecrets ?? {}).length > 0 &&
    !isLoopbackHost(url.hostname)
  )
    // Plaintext HTTP/2 would hand the secret to every network hop: only the runner's own host.
    errors.push({
      path: '/url',
      message: `http:// would send metadataSecrets to ${url.hostname} in clear: use https:// (plaintext only to a loopback address)`,
    });
  if (url) errors.push(...checkCaInputs(inputs, url.protocol === 'https:', 'give an https:// url'));
  for (const [from, keys] of [
    ['metadata', Object.keys(inputs.metadata ?? {})],
    ['metadataSecrets', Object.keys(inputs.metadataSecrets ?? {})],
  ] as const)
    for (const key of keys) {
      if (RESERVED.test(key)) errors.push({ path: `/${from}/${key}`, message: 'is set by gRPC itself' });
      else if (from === 'metadata' && CREDENTIAL_KEYS.test(key))
        errors.push({
          path: `/metadata/${key}`,
          message:
            'is a credential, which with: would store with the plan: name its secret in metadataSecrets',
        });
      else if (key.endsWith('-bin'))
        errors.push({ path: `/${from}/${key}`, message: 'binary metadata is not supported' });
    }
  return { ok: errors.length === 0, errors };
}

/** `host:port` for grpc-js and whether the channel is TLS. */
export function targetOf(text: string): { address: string; secure: boolean } {
  const url = parse(text);
  if (!url) throw new TaskError('grpc_url_invalid', '/url is not a URL');
  const secure = url.protocol === 'https:';
  return { address: `${url.hostname}:${url.port || (secure ? '443' : '80')}`, secure };
}

function parse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
