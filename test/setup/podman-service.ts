/**
 * Makes sure Podman's Docker-compatible service answers for the container runner's tests: uses the
 * one scripts/setup/podman.sh started, or starts its own on a private socket and stops it after.
 * Fails loudly (never skips) when Podman or the base image is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_IMAGE = 'localhost/maestro-busybox:latest';
const SETUP_HINT =
  'run `bash scripts/setup/podman.sh` (installs Podman, writes containers.conf, imports the image)';

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export interface PodmanService {
  socketPath: string;
  stop(): Promise<void>;
}

export async function ensurePodmanService(): Promise<PodmanService> {
  const which = spawnSync('podman', ['image', 'exists', TEST_IMAGE]);
  if (which.error) throw new Error(`podman is not installed: ${SETUP_HINT}`);
  if (which.status !== 0) throw new Error(`image ${TEST_IMAGE} is missing: ${SETUP_HINT}`);
  const shared = process.env.MAESTRO_PODMAN_SOCKET ?? '/run/maestro-podman.sock';
  if (await ping(shared)) return { socketPath: shared, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'maestro-podman-'));
  const socketPath = join(dir, 'podman.sock');
  const child: ChildProcess = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(await ping(socketPath)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await ping(socketPath))) {
    child.kill();
    throw new Error(`podman system service did not start on ${socketPath}: ${SETUP_HINT}`);
  }
  return {
    socketPath,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
