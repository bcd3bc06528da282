/**
 * The init container that puts the run's source into a pod's work dir: the engine's export lives
 * on the engine's host, so the pod fetches the same commit itself (a shallow fetch of exactly that
 * SHA, then `.git` removed, so the task sees the files as a local runner's task does). Only a
 * remote repository can be fetched from a pod; a run from a local path fails before a Job exists.
 * A token reaches git only through GIT_CONFIG_* variables from a Secret, never the command line:
 * the run's own credential (`request.sourceHeader`: the App's installation token, fresh for this
 * attempt) from the attempt's Secret, else the operator's `source.headerSecret`.
 */
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { InputError, type RunSource } from '../../core/index.ts';
import type { KubernetesRunnerConfig } from './config.ts';

export const SOURCE_CONTAINER = 'source';
export const SOURCE_HEADER_KEY = 'MAESTRO_SOURCE_HEADER';

const FETCH = [
  'set -eu',
  'git init -q .',
  'git fetch -q --depth 1 --no-tags "$MAESTRO_SOURCE_REPO" "$MAESTRO_SOURCE_SHA"',
  'git -c advice.detachedHead=false checkout -q FETCH_HEAD',
  'rm -rf .git',
].join('\n');

export function sourceInitContainer(
  source: RunSource,
  config: KubernetesRunnerConfig,
  workDir: string,
  securityContext: V1Container['securityContext'],
  credential?: { header: string; secretName: string },
): { container: V1Container; secretData: Record<string, string> } {
  if (source.kind !== 'git' || !/^https?:\/\//.test(source.repo))
    throw new InputError(
      'source_unreachable',
      `the source ${source.repo} is a local ${source.kind === 'git' ? 'repository' : 'directory'}, which a Kubernetes pod cannot fetch`,
      { hint: 'run with --source <https:// clone URL>, or on the local or container runner' },
    );
  if (!config.source)
    throw new InputError(
      'runner_config_invalid',
      'kubernetes runner: the run has a source but `source.image` is not set',
      {
        hint: 'set source: { image: <an image with git> } in the kubernetes runner config',
      },
    );
  const env: V1EnvVar[] = [
    { name: 'MAESTRO_SOURCE_REPO', value: source.repo },
    { name: 'MAESTRO_SOURCE_SHA', value: source.commit },
    { name: 'HOME', value: '/tmp' },
    { name: 'GIT_TERMINAL_PROMPT', value: '0' },
  ];
  const headerRef = credential
    ? { name: credential.secretName, key: SOURCE_HEADER_KEY }
    : config.source.headerSecret
      ? { name: config.source.headerSecret, key: 'header' }
      : undefined;
  if (headerRef)
    env.push(
      { name: 'GIT_CONFIG_COUNT', value: '1' },
      { name: 'GIT_CONFIG_KEY_0', value: 'http.extraHeader' },
      { name: 'GIT_CONFIG_VALUE_0', valueFrom: { secretKeyRef: headerRef } },
    );
  const container: V1Container = {
    name: SOURCE_CONTAINER,
    image: config.source.image,
    command: ['/bin/sh', '-c', FETCH],
    workingDir: workDir,
    env,
    ...(securityContext ? { securityContext } : {}),
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'work', mountPath: workDir },
    ],
  };
  return { container, secretData: credential ? { [SOURCE_HEADER_KEY]: credential.header } : {} };
}
