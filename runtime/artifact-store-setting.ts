/**
 * Where the artifacts of container and Kubernetes tasks move between tasks, from the surface's
 * environment (docs/runtime.md):
 *   MAESTRO_ARTIFACT_STORE            unset: the data dir (as for local tasks); `s3://bucket[/prefix]`
 *   MAESTRO_ARTIFACT_STORE_ENDPOINT   an S3-compatible server's URL (MinIO, ...); unset for AWS S3
 *   AWS_REGION / AWS_DEFAULT_REGION   default us-east-1
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   both keys, or neither (then the
 *                                     SDK's default chain: web identity, container or instance role)
 *   MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES the largest upload of kept artifacts a pod may hand back
 *                                     (default 1 GiB; engine/artifact-upload.ts)
 * Fails closed: an endpoint with credentials in it, plain http to anything but a loopback address,
 * or one key without the other is a usage error naming the variable.
 */
import { isLoopbackHost, UsageError } from '../core/index.ts';
import type { S3ArtifactStoreOptions, S3Credentials } from '../engine/index.ts';
/** The surface's environment (config-from-env.ts's Env; not imported from there: it imports this). */
type Env = Record<string, string | undefined>;

/** The runner kinds whose tasks' artifacts move through the configured store. */
export const REMOTE_ARTIFACT_RUNNERS = ['container', 'kubernetes'] as const;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function artifactStoreFrom(env: Env): S3ArtifactStoreOptions | undefined {
  const value = env.MAESTRO_ARTIFACT_STORE ?? '';
  if (value === '') return undefined;
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(value);
  if (!match || !BUCKET.test(match[1]!))
    throw new UsageError(`MAESTRO_ARTIFACT_STORE=${value} is not s3://<bucket>[/<prefix>]`, {
      hint: 'set MAESTRO_ARTIFACT_STORE=s3://my-bucket/maestro, or unset it to keep artifacts in the data dir',
    });
  const rawPrefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  const endpoint = endpointFrom(env.MAESTRO_ARTIFACT_STORE_ENDPOINT);
  const credentials = credentialsFrom(env);
  return {
    bucket: match[1]!,
    prefix: rawPrefix === '' ? '' : `${rawPrefix}/`,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...maxUploadFrom(env.MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES),
    // A function, not the values: the setting can be logged or printed without them.
    ...(credentials ? { credentials: () => credentials } : {}),
  };
}

function maxUploadFrom(value: string | undefined): { maxUploadBytes?: number } {
  if (value === undefined || value === '') return {};
  const bytes = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(bytes) || bytes <= 0)
    throw new UsageError(`MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES=${value} is not a positive number of bytes`, {
      hint: 'e.g. MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES=536870912 (512 MiB), or unset it for 1 GiB',
    });
  return { maxUploadBytes: bytes };
}

function endpointFrom(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError('MAESTRO_ARTIFACT_STORE_ENDPOINT is not a URL', {
      hint: 'set it to the server, e.g. https://minio.example:9000',
    });
  }
  if (url.username || url.password)
    throw new UsageError('MAESTRO_ARTIFACT_STORE_ENDPOINT must not hold credentials', {
      hint: 'pass them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    });
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new UsageError(`MAESTRO_ARTIFACT_STORE_ENDPOINT uses plain http to ${url.hostname}`, {
      hint: 'use https (plain http is allowed only to a loopback address)',
    });
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`MAESTRO_ARTIFACT_STORE_ENDPOINT has the scheme ${url.protocol}; use https`);
  return url.origin;
}

function credentialsFrom(env: Env): S3Credentials | undefined {
  const id = env.AWS_ACCESS_KEY_ID ?? '';
  const secret = env.AWS_SECRET_ACCESS_KEY ?? '';
  if (id === '' && secret === '') return undefined;
  if (id === '' || secret === '')
    throw new UsageError(
      `${id === '' ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is set without ${id === '' ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'}`,
      { hint: 'set both, or neither to use the SDK default credential chain' },
    );
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}
