/**
 * The native sidecar (an init container with `restartPolicy: Always`, Kubernetes 1.29 and later)
 * that hands a task's declared artifacts back to the engine: a pod's workspace is an emptyDir the
 * engine never sees. It starts before the task and sleeps; when the task's container has ended,
 * the kubelet stops the pod's sidecars with SIGTERM (and only then marks the pod finished), and
 * this one's trap tars the declared paths of the work volume (mounted read-only) and PUTs the tar
 * to the one URL the engine signed for this attempt (request.keep), refusing beforehand to send
 * more than the engine will read. The engine checks what arrives (engine/upload-extract.ts); this
 * script is the pod's half of the bargain, not a control the engine relies on, except for one
 * thing only the pod can see: a declared path whose parent is a symlink (`out -> /proc/self`,
 * `artifacts: [out/environ]`) is not uploaded, since tar would follow it out of the workspace
 * into the sidecar's own files (the URL is in its environment). A symlink a declared path names
 * or a folder holds is stored as a link, never followed, and the engine does not keep it.
 * The URL is a bearer capability: it is in the attempt's Secret (job-secret.ts), never the Job
 * spec, and never printed (curl -sS prints the error, not the URL).
 */
import type { V1Container } from '@kubernetes/client-node';
import { InputError, type KeepUpload } from '../../core/index.ts';
import { escapeExpansion } from './job-secret.ts';

export const KEEP_CONTAINER = 'keep';
export const KEEP_URL_KEY = 'MAESTRO_KEEP_URL';
const KEEP_DIR = '/maestro/keep';

/** The sidecar's script; exported so a test can run it on the host exactly as the pod would. */
export const KEEP_SCRIPT = [
  'set -u',
  'out="$MAESTRO_KEEP_DIR/kept.tar"',
  // 0 when no parent folder of "$1" is a symlink (its last component may be: tar stores it as one).
  'parents_real() {',
  '  rest=$1; cur=',
  '  while case $rest in */*) true ;; *) false ;; esac; do',
  '    cur=${cur:+$cur/}${rest%%/*}; rest=${rest#*/}',
  '    [ -L "$cur" ] && return 1',
  '  done',
  '  return 0',
  '}',
  'upload() {',
  '  cd "$MAESTRO_WORK" || exit 1',
  '  set -f; saved=$IFS; IFS="',
  '"',
  '  set --',
  '  for p in $MAESTRO_KEEP_PATHS; do',
  '    if ! parents_real "$p"; then echo "keep: $p is under a symlink: not uploaded" >&2',
  '    elif [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"',
  '    else echo "keep: $p is not in the workspace" >&2; fi',
  '  done',
  '  IFS=$saved',
  '  [ "$#" -gt 0 ] || { echo "keep: nothing to upload" >&2; exit 0; }',
  '  tar -cf "$out" -- "$@" || { echo "keep: tar failed" >&2; exit 1; }',
  '  size=$(wc -c < "$out" | tr -d " ")',
  '  if [ "$size" -gt "$MAESTRO_KEEP_MAX_BYTES" ]; then',
  '    echo "keep: the artifacts are $size bytes, more than the $MAESTRO_KEEP_MAX_BYTES accepted: not uploaded" >&2',
  '    rm -f "$out"; exit 1',
  '  fi',
  '  curl -sS --fail --retry 3 -o /dev/null -T "$out" "$MAESTRO_KEEP_URL" || { echo "keep: the upload failed" >&2; exit 1; }',
  '  rm -f "$out"',
  '  echo "keep: $# path(s) uploaded, $size bytes"',
  '}',
  // The sleep is a child so `wait` returns on the signal; the trap may run before $! is read.
  'sleeper=',
  'trap \'[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; upload; exit 0\' TERM',
  'while :; do sleep 3600 >/dev/null 2>&1 & sleeper=$!; wait "$sleeper"; done',
].join('\n');

/** The sidecar, its volume, and the Secret entry (the URL) its env refers to. */
export function keepSidecar(
  keep: KeepUpload,
  image: string | undefined,
  workDir: string,
  secretName: string,
  securityContext: V1Container['securityContext'],
): { container: V1Container; secretData: Record<string, string> } {
  if (!image)
    throw new InputError(
      'artifact_upload_not_configured',
      'the task declares artifacts, and the kubernetes runner has no `artifactUpload.image` to hand them back with',
      {
        hint: 'set kubernetes.artifactUpload.image in the runners file to an image with sh, tar and curl (docs/runners.md)',
      },
    );
  // The list is split on newlines (data, never evaluated); a path the compiler accepts has none.
  for (const path of keep.paths)
    if (
      /[\n\r]|^\s|\s$/.test(path) ||
      path.startsWith('/') ||
      path.split('/').some((s) => s === '..' || s === '')
    )
      throw new InputError(
        'artifact_path_refused',
        `artifact ${JSON.stringify(path)} cannot be kept from a pod`,
        {
          hint: 'declare workspace-relative paths without `..`',
        },
      );
  return {
    container: {
      name: KEEP_CONTAINER,
      image,
      restartPolicy: 'Always',
      command: ['/bin/sh', '-c', escapeExpansion(KEEP_SCRIPT)],
      env: [
        { name: 'MAESTRO_KEEP_PATHS', value: escapeExpansion(keep.paths.join('\n')) },
        { name: 'MAESTRO_KEEP_MAX_BYTES', value: String(keep.maxBytes) },
        { name: 'MAESTRO_WORK', value: workDir },
        { name: 'MAESTRO_KEEP_DIR', value: KEEP_DIR },
        { name: KEEP_URL_KEY, valueFrom: { secretKeyRef: { name: secretName, key: KEEP_URL_KEY } } },
      ],
      ...(securityContext ? { securityContext } : {}),
      volumeMounts: [
        { name: 'work', mountPath: workDir, readOnly: true },
        { name: 'keep', mountPath: KEEP_DIR },
      ],
    },
    secretData: { [KEEP_URL_KEY]: keep.url },
  };
}
