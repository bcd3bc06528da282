/**
 * Runs a Job's `keep` sidecar (runners/kubernetes/artifacts-keep.ts) on the host, as the kubelet
 * would run it: its command and env from the Job spec, `secretKeyRef` values from the attempt's
 * Secret, `$$` turned back into `$`, its mounts mapped to host folders; then, once its trap is
 * set (it has started its sleep), the SIGTERM the kubelet sends a sidecar when the task's
 * container has ended. kwok runs no container, so this is the one simulated part: the kubelet.
 * `tools` picks the shell and tar: the host's (`sh`, GNU tar) or busybox's applets, the tools of
 * a busybox-based curl image (curl is the host's either way).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { tempDir } from './engine-fixtures.ts';

export type SidecarTools = 'host' | 'busybox';

/** A PATH whose sh, tar, wc, tr, sleep and rm are busybox applets, and curl the host's. */
function busyboxPath(): string {
  const dir = tempDir('maestro-busybox-path-');
  for (const applet of ['sh', 'tar', 'wc', 'tr', 'sleep', 'rm', 'kill'])
    symlinkSync('/usr/bin/busybox', join(dir, applet));
  symlinkSync('/usr/bin/curl', join(dir, 'curl'));
  return dir;
}

async function sleeping(pid: number): Promise<void> {
  const children = `/proc/${pid}/task/${pid}/children`;
  for (let i = 0; i < 500; i += 1) {
    if (existsSync(children) && readFileSync(children, 'utf8').trim() !== '') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the keep sidecar never started its sleep');
}

export async function runKeepSidecar(
  container: V1Container,
  secretData: Record<string, string>,
  mounts: Record<string, string>,
  tools: SidecarTools = 'host',
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const hostPath = (path: string) => {
    const mount = container.volumeMounts!.find((m) => m.mountPath === path);
    const host = mount ? mounts[mount.name] : undefined;
    if (!host) throw new Error(`no host folder for ${path}`);
    return host;
  };
  const env: Record<string, string> = {
    PATH: tools === 'busybox' ? busyboxPath() : process.env.PATH!,
  };
  for (const e of container.env ?? []) {
    const value = e.valueFrom ? secretData[e.valueFrom.secretKeyRef!.key]! : e.value!.replaceAll('$$', '$');
    env[e.name] = value;
  }
  // The mount paths, as the pod sees them, become the host folders the test set up.
  env.MAESTRO_WORK = hostPath(env.MAESTRO_WORK!);
  env.MAESTRO_KEEP_DIR = hostPath(env.MAESTRO_KEEP_DIR!);
  mkdirSync(env.MAESTRO_KEEP_DIR, { recursive: true });
  const [shell, ...args] = container.command!.map((part) => part.replaceAll('$$', '$'));
  const child = spawn(tools === 'busybox' ? join(env.PATH!, 'sh') : shell!, args, { env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await sleeping(child.pid!);
  child.kill('SIGTERM');
  return { status: await exited, stdout, stderr };
}
