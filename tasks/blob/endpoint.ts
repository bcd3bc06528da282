// The `endpoint` input of tasks/blob, checked before any client is made: a URL, http(s) only,
// never holding credentials (user:password, or an Azure SAS or connection string's key in the
// query: with: is stored with the plan and shown in the console), and plain http:// only to a
// loopback address, since every request carries credentials (an S3 signature, an Azure Shared
// Key signature or SAS). The value is never quoted in an error: it may be the secret itself.
import { isLoopbackHost } from '../../core/index.ts';
import { TaskError } from '../../sdk/index.ts';

const HINTS = {
  s3: 'pass AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as secrets in env:',
  azure: 'pass AZURE_STORAGE_KEY (with AZURE_STORAGE_ACCOUNT) or AZURE_STORAGE_SAS_TOKEN as secrets in env:',
} as const;

export function endpointUrl(text: string, provider: 's3' | 'azure'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TaskError('blob_endpoint_invalid', '/endpoint is not a URL', {
      hint: /AccountKey=|SharedAccessSignature=|sig=/i.test(text)
        ? `a connection string or key is a secret, never an input: ${HINTS[provider]}`
        : 'give the server as http(s)://host:port',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TaskError('blob_endpoint_invalid', `/endpoint must be http(s), not ${url.protocol}`);
  if (url.username || url.password || (provider === 'azure' && url.search))
    throw new TaskError(
      'blob_endpoint_invalid',
      `/endpoint holds credentials (${url.search ? 'a query, as a SAS is' : 'user:password'}), which with: would store with the plan`,
      { hint: HINTS[provider] },
    );
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new TaskError(
      'blob_endpoint_insecure',
      `/endpoint is http:// to ${url.hostname}, beyond this machine: the request's credentials would cross the network in clear`,
      { hint: 'use https://, or http:// only to a loopback address (127.0.0.1, ::1, localhost)' },
    );
  return url;
}
