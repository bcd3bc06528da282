// tasks/blob: S3 (and S3-compatible servers) get, put, list and delete, built on the task SDK.
// A put above partSizeMiB is a multipart upload. The access keys are secrets passed in env:
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optionally AWS_SESSION_TOKEN), never inputs. A put
// is idempotent by key: the same file to the same key leaves the same object (its sha256 is an
// output). Each operation is an OpenTelemetry span (tasks/telemetry/span.ts), on both providers.
// Its spec is task.json's, checked equal by tasks/blob/blob.test.ts.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { defineTask, runMain, TaskError, workspaceFile, type ValidationIssue } from '../../sdk/index.ts';
import { s3ClientFor } from './s3-client.ts';
import { getFile, putFile } from './transfer.ts';
import { azureExecute } from './azure.ts';
import { inTaskSpan } from '../telemetry/span.ts';

const MIB = 1024 * 1024;
const NEEDS: Record<string, readonly ('key' | 'file')[]> = {
  put: ['key', 'file'],
  get: ['key', 'file'],
  delete: ['key'],
  list: [],
};

export const blob = defineTask({
  name: 'blob',
  version: '1.0.0',
  description:
    'Puts a workspace file into an S3 bucket or an Azure Blob container (multipart, or blocks, above partSizeMiB), gets an object into a file, lists keys under a prefix or deletes an object; outputs size, sha256 and etag, or the keys.',
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['operation', 'bucket'],
      properties: {
        operation: { enum: ['put', 'get', 'list', 'delete'], description: 'What to do.' },
        provider: {
          enum: ['s3', 'azure'],
          description: 'S3 (and S3-compatible servers), or Azure Blob Storage (default s3).',
        },
        bucket: {
          type: 'string',
          minLength: 3,
          maxLength: 63,
          description: 'The bucket (azure: the container).',
        },
        key: {
          type: 'string',
          minLength: 1,
          maxLength: 1024,
          description: 'The object key (put, get, delete).',
        },
        file: {
          type: 'string',
          minLength: 1,
          description: 'The workspace file to upload (put) or to write (get), relative to the workspace.',
        },
        prefix: { type: 'string', description: 'list: only keys starting with this.' },
        maxKeys: {
          type: 'integer',
          minimum: 1,
          maximum: 10000,
          description: 'list: at most this many keys (default 1000).',
        },
        contentType: { type: 'string', description: 'put: the object’s Content-Type.' },
        partSizeMiB: {
          type: 'integer',
          minimum: 5,
          maximum: 5120,
          description: 'put: files larger than this are uploaded in parts of this size (default 8).',
        },
        endpoint: {
          type: 'string',
          description:
            'An S3-compatible server, http(s)://host:port (default: AWS); azure: the account’s blob service URL (default https://<AZURE_STORAGE_ACCOUNT>.blob.core.windows.net). http:// only to a loopback address.',
        },
        region: { type: 'string', minLength: 1, description: 'The region (default us-east-1).' },
        forcePathStyle: {
          type: 'boolean',
          description: 'Address the bucket in the path, not the host name (default: true with endpoint).',
        },
      },
    },
    outputs: {
      type: 'object',
      properties: {
        size: { type: 'integer', description: 'put, get: bytes moved.' },
        sha256: { type: 'string', description: 'put, get: the sha256 (hex) of the bytes moved.' },
        etag: { type: 'string', description: 'put, get: the object’s ETag.' },
        parts: {
          type: 'integer',
          description: 'put: 1, or the number of parts of a multipart upload (azure: blocks).',
        },
        skipped: {
          type: 'boolean',
          description:
            'azure put: the blob already held these bytes (same size and sha256): nothing was sent.',
        },
        keys: {
          type: 'array',
          items: { type: 'object' },
          description: 'list: [{ key, size }] in key order.',
        },
        count: { type: 'integer', description: 'list: how many keys.' },
        truncated: { type: 'boolean', description: 'list: more keys than maxKeys exist.' },
      },
    },
  },
  validate(inputs) {
    const errors: ValidationIssue[] = [];
    for (const name of NEEDS[inputs.operation] ?? [])
      if (inputs[name] === undefined)
        errors.push({ path: `/${name}`, message: `${inputs.operation} needs ${name}` });
    if (inputs.operation !== 'list' && (inputs.prefix !== undefined || inputs.maxKeys !== undefined))
      errors.push({
        path: inputs.prefix !== undefined ? '/prefix' : '/maxKeys',
        message: 'only list takes it',
      });
    if (inputs.provider === 'azure' && (inputs.region !== undefined || inputs.forcePathStyle !== undefined))
      errors.push({
        path: inputs.region !== undefined ? '/region' : '/forcePathStyle',
        message: 'only provider s3 takes it',
      });
    if (inputs.operation !== 'put' && (inputs.partSizeMiB !== undefined || inputs.contentType !== undefined))
      errors.push({
        path: inputs.partSizeMiB !== undefined ? '/partSizeMiB' : '/contentType',
        message: 'only put takes it',
      });
    return { ok: errors.length === 0, errors };
  },
  async execute(inputs, ctx) {
    if (inputs.provider === 'azure') return await azureExecute(inputs, ctx);
    // The same span as Azure's (azure.ts): `blob <operation>`, its provider and bucket, the bytes.
    const attributes = {
      'maestro.blob.provider': 's3',
      'maestro.blob.operation': inputs.operation,
      'aws.s3.bucket': inputs.bucket,
    };
    return await inTaskSpan(ctx, `blob ${inputs.operation}`, { task: 'blob', attributes }, async (span) => {
      const client = s3ClientFor(inputs, ctx);
      const where = `s3://${inputs.bucket}/${inputs.key ?? inputs.prefix ?? ''}`;
      try {
        if (inputs.operation === 'list')
          return await list(client, inputs.bucket, inputs.prefix, inputs.maxKeys ?? 1000, ctx.signal);
        if (inputs.operation === 'delete') {
          await client.send(new DeleteObjectCommand({ Bucket: inputs.bucket, Key: inputs.key }), {
            abortSignal: ctx.signal,
          });
          ctx.emit.log(`blob: deleted ${where}`);
          return {};
        }
        const file = workspaceFile(ctx.workspace, inputs.file as string, '/file');
        const key = inputs.key as string;
        if (inputs.operation === 'get') mkdirSync(dirname(file), { recursive: true });
        const moved =
          inputs.operation === 'put'
            ? await putFile(client, {
                bucket: inputs.bucket,
                key,
                file,
                partSize: (inputs.partSizeMiB ?? 8) * MIB,
                signal: ctx.signal,
                onPart: (done, total) => {
                  ctx.emit.progress({ done, total, message: 'parts uploaded' });
                  ctx.heartbeat();
                },
                ...(inputs.contentType ? { contentType: inputs.contentType } : {}),
              })
            : await getFile(client, { bucket: inputs.bucket, key, file, signal: ctx.signal });
        if (inputs.operation === 'get') ctx.emit.artifact(inputs.file as string);
        span.setAttribute('maestro.blob.bytes', moved.size);
        ctx.emit.log(`blob: ${inputs.operation} ${where}: ${moved.size} bytes, sha256 ${moved.sha256}`);
        ctx.emit.metric('bytes', moved.size, 'By');
        return inputs.operation === 'put'
          ? moved
          : { size: moved.size, sha256: moved.sha256, etag: moved.etag };
      } catch (error) {
        throw failure(error, inputs.operation, where, ctx.signal);
      } finally {
        client.destroy();
      }
    });
  },
});

async function list(
  client: S3Client,
  bucket: string,
  prefix: string | undefined,
  maxKeys: number,
  signal: AbortSignal,
) {
  const keys: { key: string; size: number }[] = [];
  let token: string | undefined;
  let truncated: boolean;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(prefix ? { Prefix: prefix } : {}),
        MaxKeys: Math.min(1000, maxKeys - keys.length),
        ...(token ? { ContinuationToken: token } : {}),
      }),
      { abortSignal: signal },
    );
    for (const object of page.Contents ?? [])
      keys.push({ key: object.Key as string, size: Number(object.Size ?? 0) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    truncated = token !== undefined;
  } while (token !== undefined && keys.length < maxKeys);
  return { keys, count: keys.length, truncated };
}

/** A TaskError naming the operation and object; S3's own code (NoSuchKey, AccessDenied) kept. */
function failure(error: unknown, operation: string, where: string, signal: AbortSignal): unknown {
  if (error instanceof TaskError || signal.aborted) return error;
  const { name, message, $metadata } = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  const retryable = status === undefined || status >= 500 || status === 429;
  return new TaskError(
    'blob_request_failed',
    `${operation} ${where} failed: ${name ?? 'Error'}: ${message ?? String(error)}`,
    {
      fault: retryable ? 'system' : 'user',
      retryable,
      hint:
        name === 'NoSuchKey' || name === 'NoSuchBucket'
          ? 'check bucket and key (list shows what is there)'
          : 'check the endpoint, region, bucket and the AWS_* secrets passed in env:',
      cause: error,
    },
  );
}

if (import.meta.main) await runMain(blob, process.env);
