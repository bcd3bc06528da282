// tasks/blob with provider: azure: the same operations as S3 (put, get, list, delete; a put
// above partSizeMiB in blocks), inside the task's OpenTelemetry span (tasks/telemetry/span.ts).
// Errors keep Azure's own error code (BlobNotFound, AuthenticationFailed); the credential is a
// secret (azure-client.ts) and never part of a message.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TaskError, workspaceFile, type TaskContext } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { azureContainerFor } from './azure-client.ts';
import { azureDelete, azureGet, azureList, azurePut } from './azure-transfer.ts';

const MIB = 1024 * 1024;

export interface AzureInputs {
  operation: 'put' | 'get' | 'list' | 'delete';
  bucket: string;
  key?: string;
  file?: string;
  prefix?: string;
  maxKeys?: number;
  contentType?: string;
  partSizeMiB?: number;
  endpoint?: string;
}

export async function azureExecute(inputs: AzureInputs, ctx: TaskContext): Promise<Record<string, unknown>> {
  const where = `azure://${inputs.bucket}/${inputs.key ?? inputs.prefix ?? ''}`;
  const attributes = { 'cloud.provider': 'azure', 'maestro.blob.operation': inputs.operation };
  return await inTaskSpan(ctx, `blob ${inputs.operation}`, { task: 'blob', attributes }, async (span) => {
    const container = azureContainerFor(inputs, ctx);
    try {
      if (inputs.operation === 'list')
        return await azureList(container, inputs.prefix, inputs.maxKeys ?? 1000, ctx.signal);
      if (inputs.operation === 'delete') {
        await azureDelete(container, inputs.key as string, ctx.signal);
        ctx.emit.log(`blob: deleted ${where}`);
        return {};
      }
      const file = workspaceFile(ctx.workspace, inputs.file as string, '/file');
      const key = inputs.key as string;
      if (inputs.operation === 'get') {
        mkdirSync(dirname(file), { recursive: true });
        const got = await azureGet(container, { key, file, signal: ctx.signal });
        ctx.emit.artifact(inputs.file as string);
        ctx.emit.log(`blob: get ${where}: ${got.size} bytes, sha256 ${got.sha256}`);
        ctx.emit.metric('bytes', got.size, 'By');
        return { size: got.size, sha256: got.sha256, etag: got.etag };
      }
      const put = await azurePut(container, {
        bucket: inputs.bucket,
        key,
        file,
        partSize: (inputs.partSizeMiB ?? 8) * MIB,
        signal: ctx.signal,
        onPart: (done, total) => {
          ctx.emit.progress({ done, total, message: 'blocks uploaded' });
          ctx.heartbeat();
        },
        ...(inputs.contentType ? { contentType: inputs.contentType } : {}),
      });
      span.setAttribute('maestro.blob.bytes_sent', put.sent);
      ctx.emit.log(
        put.skipped
          ? `blob: put ${where}: already holds these ${put.size} bytes (sha256 ${put.sha256}); nothing sent`
          : `blob: put ${where}: ${put.size} bytes (${put.sent} sent), sha256 ${put.sha256}`,
      );
      ctx.emit.metric('bytes', put.sent, 'By');
      const { sent: _sent, ...outputs } = put;
      return outputs;
    } catch (error) {
      throw failure(error, inputs.operation, where, ctx.signal);
    }
  });
}

/** A TaskError naming the operation and blob; Azure's error code kept, never the request URL. */
function failure(error: unknown, operation: string, where: string, signal: AbortSignal): unknown {
  if (error instanceof TaskError || signal.aborted) return error;
  const { code, statusCode } = error as { code?: string; statusCode?: number };
  const retryable = statusCode === undefined || statusCode >= 500 || statusCode === 429;
  const name = code ?? (statusCode ? `HTTP ${statusCode}` : (error as Error).name);
  return new TaskError('blob_request_failed', `${operation} ${where} failed: ${name}`, {
    fault: retryable ? 'system' : 'user',
    retryable,
    hint:
      code === 'BlobNotFound' || code === 'ContainerNotFound'
        ? 'check container and key (list shows what is there)'
        : 'check the endpoint, the container and the AZURE_STORAGE_* secrets passed in env:',
    cause: error,
  });
}
