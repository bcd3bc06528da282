// tasks/grpc: a unary or server-streaming gRPC call, the method described by `.proto` files of
// the workspace or by the server's reflection service, with a deadline and metadata, built on the
// task SDK. `url` is http:// (plaintext HTTP/2, for a server on the runner's network) or https://
// (TLS: the system's roots, or the CA of caFile/caSecret), so policy sees its host as the task's
// target (targetInputs). Secret metadata (a bearer token, an API key) comes from env: through
// `metadataSecrets`, never from with:, which is stored with the plan, and goes in clear only to
// a loopback address. With `idempotencyKey` (sent as the `idempotency-key` metadata) the answer
// is checkpointed: a retry of the task returns it without calling again. An answer too large to
// checkpoint (the protocol keeps at most 1 MiB) is checkpointed as "called" only, so a retry
// fails clearly (grpc_answer_not_checkpointed) instead of calling again.
// Its spec is task.json's, checked equal by tasks/grpc/grpc.test.ts.
import { credentials, Metadata } from '@grpc/grpc-js';
import { defineTask, runMain, TaskError, workspaceFile, type TaskContext } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { readCa } from '../tls/read-ca.ts';
import { callMethod, type Json } from './call.ts';
import { findMethod, loadProtoFiles } from './load-service.ts';
import { reflectService } from './reflection.ts';
import { grpcSpec } from './spec.ts';
import { checkInputs, targetOf } from './target.ts';

export const grpc = defineTask({
  name: 'grpc',
  version: '1.0.0',
  description:
    'Makes a unary or server-streaming gRPC call, the method described by .proto files of the workspace or by server reflection, with a deadline and metadata (secret metadata from env:); outputs the response or the streamed messages.',
  spec: grpcSpec,
  validate: checkInputs,
  async execute(inputs, ctx) {
    const earlier = ctx.state as Checkpoint | undefined;
    if (inputs.idempotencyKey && earlier && (earlier.response || earlier.messages)) {
      ctx.emit.log('grpc: an earlier attempt of this task completed the call; not calling again');
      return { ...earlier, status: 'OK', replayed: true };
    }
    if (inputs.idempotencyKey && earlier?.calledBytes !== undefined)
      throw new TaskError(
        'grpc_answer_not_checkpointed',
        `an earlier attempt completed the call, but its answer (${earlier.calledBytes} bytes) was too large to checkpoint; not calling again`,
        {
          hint: 'the call was made once: run a new run to call again, and ask for less (maxMessages, a smaller response)',
        },
      );
    const { address, secure } = targetOf(inputs.url);
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(inputs.metadata ?? {})) metadata.set(key, value);
    for (const [key, secret] of Object.entries(inputs.metadataSecrets ?? {}))
      metadata.set(key, ctx.secret(secret));
    if (inputs.idempotencyKey) metadata.set('idempotency-key', inputs.idempotencyKey);
    const target = {
      address,
      credentials: secure ? credentials.createSsl(caOf(inputs, ctx)) : credentials.createInsecure(),
      metadata,
      deadline: new Date(ctx.clock.now() + (inputs.deadlineMs ?? 10_000)),
      signal: ctx.signal,
    };
    return await inTaskSpan(
      ctx,
      `${inputs.service}/${inputs.method}`,
      {
        task: 'grpc',
        attributes: {
          'rpc.system': 'grpc',
          'rpc.service': inputs.service,
          'rpc.method': inputs.method,
          'server.address': new URL(inputs.url).hostname,
          'server.port': Number(address.slice(address.lastIndexOf(':') + 1)),
        },
      },
      async (span) => {
        const definition = inputs.reflection
          ? await reflectService(target, inputs.service)
          : await loadProtoFiles(
              (inputs.protoFiles ?? []).map((f, i) => workspaceFile(ctx.workspace, f, `/protoFiles/${i}`)),
              (inputs.includeDirs ?? ['.']).map((d, i) =>
                d === '.' ? ctx.workspace : workspaceFile(ctx.workspace, d, `/includeDirs/${i}`),
              ),
            );
        const method = findMethod(definition, inputs.service, inputs.method);
        ctx.emit.log(
          `grpc: ${method.path} on ${address}${method.responseStream ? ' (server-streaming)' : ''}`,
        );
        const result = await callMethod(target, method, inputs.request ?? {}, {
          maxMessages: inputs.maxMessages ?? 1000,
          onMessage: () => ctx.heartbeat(),
        });
        span.setAttribute('rpc.grpc.status_code', 0);
        const answer = method.responseStream
          ? { messages: result.messages ?? [], count: result.messages?.length ?? 0 }
          : { response: result.response ?? {} };
        if (result.truncated)
          ctx.emit.log(`grpc: stopped the stream after maxMessages (${inputs.maxMessages ?? 1000})`, 'warn');
        if (method.responseStream) ctx.emit.metric('messages', answer.count ?? 0);
        if (inputs.idempotencyKey) checkpoint(answer, ctx);
        return { ...answer, status: 'OK', headers: result.headers, replayed: false };
      },
    );
  },
});

/** As the protocol's bound on a checkpoint (MAX_STATE_BYTES, docs/task-protocol.md). */
export const MAX_CHECKPOINT_BYTES = 1 << 20;

type Checkpoint = { response?: Json; messages?: Json[]; count?: number; calledBytes?: number };

/**
 * The answer as this task's checkpoint. Over the protocol's bound the runner would drop it, and a
 * retry would silently call again: checkpoint that the call was made (and how large its answer
 * was) instead, so the retry refuses.
 */
function checkpoint(answer: Checkpoint, ctx: TaskContext): void {
  const bytes = Buffer.byteLength(JSON.stringify(answer));
  // A margin: the runner measures the checkpoint after redaction, which may lengthen a leaf.
  if (bytes <= MAX_CHECKPOINT_BYTES - 1024) return ctx.emit.state(answer);
  ctx.emit.log(
    `grpc: the answer (${bytes} bytes) is too large to checkpoint; a retry of this task will not call again, and fails`,
    'warn',
  );
  ctx.emit.state({ calledBytes: bytes });
}

function caOf(inputs: { caFile?: string; caSecret?: string }, ctx: TaskContext): Buffer | null {
  const pem = readCa(inputs, ctx);
  return pem === undefined ? null : Buffer.from(pem);
}

if (import.meta.main) await runMain(grpc, process.env);
