/**
 * Secret values never enter the Job spec: a Job (and the pods it stamps out) is readable by anyone
 * with `get jobs`/`get pods` in the namespace, lands in etcd in the clear, in audit logs and in
 * `kubectl describe`. Every env value and argv element that contains a secret moves into one
 * per-attempt Secret and is referenced with `secretKeyRef`; argv elements become `$(NAME)`
 * references to such an env var, which the kubelet expands. The Secret is owned by the Job
 * (ownerReferences, so the garbage collector deletes it with the Job) and deleted as soon as the
 * attempt ends. The Job is created suspended, so no pod starts before its Secret exists.
 *
 * The kubelet expands `$(NAME)` in env values, command and args and reduces `$$` to `$`, so every
 * `$` of a plain value is doubled: a script's `$$` or `$(date)` reaches the shell unchanged.
 */
import type { V1EnvVar, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { RunnerStartRequest } from '../../core/index.ts';
import { createRedactor } from '../../core/index.ts';

export const SECRET_ARG_PREFIX = 'MAESTRO_SECRET_ARG_';

export interface SecretSplit {
  env: V1EnvVar[];
  command?: string[];
  args?: string[];
  /** What the per-attempt Secret holds, by key (empty: no Secret is needed). */
  data: Record<string, string>;
}

/** The per-attempt Secret's name: the Job's (≤ 52 characters) plus a suffix, within 63. */
export function secretNameOf(jobName: string): string {
  return `${jobName}-secrets`;
}

/** `$` doubled: the kubelet turns `$$` back into `$` and never expands what follows. */
export function escapeExpansion(value: string): string {
  return value.replaceAll('$', () => '$$');
}

export function splitSecrets(
  request: Pick<RunnerStartRequest, 'redact'>,
  env: Record<string, string>,
  cmd: { command?: string[]; args?: string[] },
  secretName: string,
): SecretSplit {
  const redact = createRedactor(request.redact);
  const holdsSecret = (value: string) => redact.longest > 0 && redact(value) !== value;
  const data: Record<string, string> = {};
  const fromSecret = (name: string): V1EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: secretName, key: name } },
  });
  const vars: V1EnvVar[] = Object.entries(env).map(([name, value]) => {
    if (!holdsSecret(value)) return { name, value: escapeExpansion(value) };
    data[name] = value;
    return fromSecret(name);
  });
  let n = 0;
  const argRefs: V1EnvVar[] = [];
  const rewrite = (list: string[] | undefined) =>
    list?.map((arg) => {
      if (!holdsSecret(arg)) return escapeExpansion(arg);
      const name = `${SECRET_ARG_PREFIX}${n++}`;
      data[name] = arg;
      argRefs.push(fromSecret(name));
      return `$(${name})`;
    });
  const command = rewrite(cmd.command);
  const args = rewrite(cmd.args);
  return {
    // The argument variables come first: an env value may not refer to them, but order is
    // irrelevant to the kubelet's expansion of command and args, which sees every variable.
    env: [...argRefs, ...vars],
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    data,
  };
}

export function buildTaskSecret(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  owner: { name: string; uid: string },
  data: Record<string, string>,
): V1Secret {
  const ownerReference: V1OwnerReference = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: owner.name,
    uid: owner.uid,
    blockOwnerDeletion: false,
    controller: false,
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    immutable: true,
    metadata: { name, namespace, labels, ownerReferences: [ownerReference] },
    stringData: data,
  };
}
