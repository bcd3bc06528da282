// Where a grpc task's method comes from: `.proto` files of the workspace (loaded with
// @grpc/proto-loader, imports resolved from `includeDirs`), or the server's reflection service
// (reflection.ts). Either way the answer is one method definition: its path, whether it streams,
// and the (de)serialisers protobufjs builds from the descriptors.
import type { MethodDefinition, PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { load } from '@grpc/proto-loader';
import { TaskError } from '../../sdk/index.ts';

/** How messages become JSON: 64-bit integers and enums as strings (no precision lost), defaults shown. */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  oneofs: true,
} as const;

export type Method = MethodDefinition<object, object>;

/** Loads the workspace's .proto files (absolute paths, checked by the caller). */
export async function loadProtoFiles(files: string[], includeDirs: string[]): Promise<PackageDefinition> {
  try {
    return await load(files, { ...LOADER_OPTIONS, includeDirs });
  } catch (error) {
    throw new TaskError(
      'grpc_proto_invalid',
      `the .proto files cannot be loaded: ${(error as Error).message}`,
      {
        hint: 'check protoFiles and that includeDirs holds the folders their imports are relative to',
        cause: error,
      },
    );
  }
}

/** The method `service`/`method` of a package definition, or an error listing what there is. */
export function findMethod(definition: PackageDefinition, service: string, method: string): Method {
  const found = definition[service];
  if (!found || !isService(found)) {
    const services = Object.keys(definition).filter((name) => isService(definition[name]));
    throw new TaskError('grpc_method_unknown', `no service ${service} in the descriptors`, {
      hint: `give service as its full name: ${services.join(', ') || '(none)'}`,
    });
  }
  const definitionOf = found[method];
  if (!definitionOf)
    throw new TaskError('grpc_method_unknown', `${service} has no method ${method}`, {
      hint: `its methods: ${Object.keys(found).join(', ')}`,
    });
  if (definitionOf.requestStream)
    throw new TaskError(
      'grpc_method_unsupported',
      `${service}/${method} is ${definitionOf.responseStream ? 'bidirectional' : 'client'}-streaming`,
      { hint: 'the grpc task makes unary and server-streaming calls' },
    );
  return definitionOf as Method;
}

function isService(value: unknown): value is ServiceDefinition {
  // A message or enum definition has `format`; a service is a map of method definitions.
  return typeof value === 'object' && value !== null && !('format' in value);
}
