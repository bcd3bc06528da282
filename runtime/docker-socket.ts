/**
 * Finds a Docker Engine API socket so the container runner is there without a runners file:
 * DOCKER_HOST (unix://), then Docker's default socket, then Podman's rootless and rootful ones.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';

export interface FoundSocket {
  socketPath: string;
  /** Where it came from, for the log: `DOCKER_HOST` or `default socket`. */
  from: string;
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * The candidates in order. An explicit DOCKER_HOST wins even when nothing listens yet (the
 * operator said so; a task then fails naming the socket); a tcp:// DOCKER_HOST is not a socket
 * the runner can use, which `note` says.
 */
export function findDockerSocket(
  env: Record<string, string | undefined>,
  exists: (path: string) => boolean = isSocket,
): { found?: FoundSocket; note?: string } {
  const host = env.DOCKER_HOST;
  if (host !== undefined && host !== '') {
    if (host.startsWith('unix://')) return { found: { socketPath: host.slice(7), from: 'DOCKER_HOST' } };
    if (host.startsWith('/')) return { found: { socketPath: host, from: 'DOCKER_HOST' } };
    return {
      note: `DOCKER_HOST=${host} is not a unix socket: the container runner needs one (set a \`container\` section in the runners file to configure it)`,
    };
  }
  const candidates = [
    '/var/run/docker.sock',
    ...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock')] : []),
    '/run/podman/podman.sock',
  ];
  for (const socketPath of candidates)
    if (exists(socketPath)) return { found: { socketPath, from: 'default socket' } };
  return {};
}

/**
 * The container runner's section when it is detected rather than configured: the safe defaults
 * of docs/runners.md (non-root 1000:1000, network none, read-only root, never privileged, no
 * pulls). MAESTRO_CONTAINER_IMAGE names the image for `run:` tasks.
 */
export function detectedContainerSection(
  socket: FoundSocket,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  return {
    socketPath: socket.socketPath,
    defaultImage: env.MAESTRO_CONTAINER_IMAGE || DEFAULT_CONTAINER_IMAGE,
    pull: 'never',
    user: '1000:1000',
    network: 'none',
    resourceClasses: {
      small: { memoryBytes: 512 * MiB, cpus: 1, pids: 256 },
      medium: { memoryBytes: 2048 * MiB, cpus: 2, pids: 512 },
      large: { memoryBytes: 4096 * MiB, cpus: 4, pids: 1024 },
    },
  };
}

const MiB = 1024 * 1024;
export const DEFAULT_CONTAINER_IMAGE = 'docker.io/library/busybox:latest';
