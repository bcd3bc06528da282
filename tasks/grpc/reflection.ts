// The descriptors of a service from the server's reflection service (grpc.reflection.v1, else
// v1alpha for older servers): one `file_containing_symbol` request, whose answer is the file
// declaring the service with its dependencies, as serialised FileDescriptorProtos. Those are put
// in a FileDescriptorSet (its field 1, repeated, is exactly that encoding) and loaded by
// @grpc/proto-loader like .proto files. No well-kept client library does only this: the
// reflection package of grpc-node is the server side, and the client ones bring protobufjs
// versions and lodash of their own.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Metadata } from '@grpc/grpc-js';
import { Client, status, type ChannelCredentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { TaskError } from '../../sdk/index.ts';
import { LOADER_OPTIONS } from './load-service.ts';

const protoRoot = join(
  dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
  'build',
  'proto',
);

interface ReflectionResponse {
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

export interface ReflectionTarget {
  address: string;
  credentials: ChannelCredentials;
  metadata: Metadata;
  deadline: Date;
}

/** The package definition of the file declaring `service` (and its dependencies), by reflection. */
export async function reflectService(target: ReflectionTarget, service: string): Promise<PackageDefinition> {
  const client = new Client(target.address, target.credentials);
  try {
    let answer: ReflectionResponse;
    try {
      answer = await ask(client, 'v1', target, service);
    } catch (error) {
      if ((error as { code?: number }).code !== status.UNIMPLEMENTED) throw error;
      answer = await ask(client, 'v1alpha', target, service);
    }
    if (answer.error_response)
      throw new TaskError(
        'grpc_method_unknown',
        `the server's reflection does not know ${service}: ${answer.error_response.error_message}`,
        { hint: 'give service as its full name (package.Service)' },
      );
    const files = answer.file_descriptor_response?.file_descriptor_proto ?? [];
    return loadFileDescriptorSetFromBuffer(descriptorSet(files), LOADER_OPTIONS);
  } catch (error) {
    if (error instanceof TaskError) throw error;
    const code = (error as { code?: number }).code;
    throw new TaskError(
      'grpc_reflection_failed',
      `server reflection on ${target.address} failed: ${(error as { details?: string }).details ?? (error as Error).message}`,
      {
        fault: code === status.UNIMPLEMENTED ? 'user' : 'system',
        retryable: code === status.UNAVAILABLE,
        hint:
          code === status.UNIMPLEMENTED
            ? 'the server has no reflection service: give protoFiles instead'
            : 'check url and that the runner may reach the server',
        cause: error,
      },
    );
  } finally {
    client.close();
  }
}

async function ask(
  client: Client,
  version: 'v1' | 'v1alpha',
  target: ReflectionTarget,
  service: string,
): Promise<ReflectionResponse> {
  const definition = loadSync(`grpc/reflection/${version}/reflection.proto`, {
    ...LOADER_OPTIONS,
    bytes: Buffer,
    includeDirs: [protoRoot],
  });
  const info = (definition[`grpc.reflection.${version}.ServerReflection`] as Record<string, never>)
    .ServerReflectionInfo as unknown as {
    path: string;
    requestSerialize: (value: object) => Buffer;
    responseDeserialize: (bytes: Buffer) => ReflectionResponse;
  };
  const call: ClientDuplexStream<object, ReflectionResponse> = client.makeBidiStreamRequest(
    info.path,
    info.requestSerialize,
    info.responseDeserialize,
    target.metadata,
    { deadline: target.deadline },
  );
  return await new Promise((resolve, reject) => {
    call.once('data', (response: ReflectionResponse) => {
      resolve(response);
      call.cancel();
    });
    call.once('error', (error) => reject(error));
    call.write({ file_containing_symbol: service });
    call.end();
  });
}

/** A FileDescriptorSet's wire form: each file as field 1 (tag 0x0a), its length, its bytes. */
function descriptorSet(files: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) parts.push(Buffer.from([0x0a]), varint(file.length), file);
  return Buffer.concat(parts);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
