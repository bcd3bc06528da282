/**
 * The init container that puts the artifacts a task receives into its pod's $MAESTRO_ARTIFACTS:
 * the engine staged them on its own host, which a pod does not see, so the pod gets each object
 * from the operator's object store by a time-limited URL the engine signed (request.received)
 * and checks its sha256 before the task starts; then the folder is made read-only, and the task
 * container mounts it read-only. The URLs are bearer capabilities: they go into the attempt's
 * Secret (job-secret.ts), never into the Job spec; the bucket's credentials never reach the pod.
 * The list (digest, mode, path per line) is data read by `read`, never evaluated by the shell.
 */
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { InputError, type ReceivedArtifact } from '../../core/index.ts';
import { escapeExpansion } from './job-secret.ts';

export const ARTIFACTS_CONTAINER = 'artifacts';
export const ARTIFACT_URL_PREFIX = 'MAESTRO_ARTIFACT_URL_';

const FETCH = [
  'set -eu',
  'i=0',
  'printf "%s\\n" "$MAESTRO_ARTIFACT_LIST" | while read -r sum mode path; do',
  '  [ -n "$sum" ] || continue',
  '  target="$MAESTRO_ARTIFACTS/$path"',
  '  mkdir -p "$(dirname "$target")"',
  // $i is this script's own counter, so the eval sees only `url="$MAESTRO_ARTIFACT_URL_<n>"`
  // (a busybox image has no printenv); the URL's value itself is never evaluated.
  '  eval "url=\\"\\$MAESTRO_ARTIFACT_URL_$i\\""',
  '  wget -q -O "$target" "$url"',
  '  printf "%s  %s\\n" "$sum" "$target" | sha256sum -c >/dev/null || { echo "artifact $path does not match sha256:$sum: refused" >&2; rm -f "$target"; exit 1; }',
  '  chmod "$mode" "$target"',
  '  i=$((i+1))',
  'done',
  // The volume's own root is the kubelet's (not ours to chmod); the task mounts it read-only.
  'for entry in "$MAESTRO_ARTIFACTS"/*; do chmod -R a-w "$entry"; done',
].join('\n');

/** The init container, and the Secret entries (the URLs) its env refers to. */
export function artifactsInitContainer(
  received: readonly ReceivedArtifact[],
  image: string,
  artifactsDir: string,
  secretName: string,
  securityContext: V1Container['securityContext'],
): { container: V1Container; secretData: Record<string, string> } {
  const secretData: Record<string, string> = {};
  const lines: string[] = [];
  const urls: V1EnvVar[] = received.map((artifact, i) => {
    // A newline would end the line `read` reads; a path is the producer's file name, so refuse it.
    // So would leading or trailing blanks (`read` trims them), and `..` would leave the folder.
    if (/[\n\r]|^\s|\s$/.test(artifact.path) || artifact.path.split('/').some((s) => s === '..' || s === ''))
      throw new InputError(
        'artifact_path_refused',
        `received artifact ${JSON.stringify(artifact.path)} cannot be passed to a pod`,
        { hint: 'rename the file: no newline, no leading or trailing blank' },
      );
    lines.push(
      `${artifact.digest.replace(/^sha256:/, '')} ${artifact.executable ? '555' : '444'} ${artifact.path}`,
    );
    const name = `${ARTIFACT_URL_PREFIX}${i}`;
    secretData[name] = artifact.url;
    return { name, valueFrom: { secretKeyRef: { name: secretName, key: name } } };
  });
  return {
    container: {
      name: ARTIFACTS_CONTAINER,
      image,
      command: ['/bin/sh', '-c', FETCH],
      env: [
        // The kubelet expands $(VAR) in plain values: `$` is doubled (job-secret.ts).
        { name: 'MAESTRO_ARTIFACT_LIST', value: escapeExpansion(lines.join('\n')) },
        { name: 'MAESTRO_ARTIFACTS', value: artifactsDir },
        ...urls,
      ],
      ...(securityContext ? { securityContext } : {}),
      volumeMounts: [{ name: 'artifacts', mountPath: artifactsDir }],
    },
    secretData,
  };
}
