/**
 * Starts a real OCI registry with the OCI 1.1 referrers API for one test file:
 * maestro-oci-registry (go-containerregistry's registry, built by scripts/setup/oci-registry.sh
 * into ~/.cache/maestro/bin) as its own process, in memory, on a free port of 127.0.0.1. Images are
 * built with Podman from the local busybox image and pushed to it over plain HTTP (loopback only).
 * Fails loudly (never skips) when the registry binary or Podman is missing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_IMAGE } from './podman-service.ts';

const SETUP_HINT =
  'run `bash scripts/setup/oci-registry.sh` (builds maestro-oci-registry into ~/.cache/maestro/bin)';

export interface OciRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  host: string;
  /** Builds an image FROM the busybox test image with one file `/marker` holding `marker`, pushes
   * it as `<host>/<repository>:<tag>`, and returns that reference and its manifest digest. */
  pushImage(repository: string, tag: string, marker: string): { reference: string; digest: string };
  stop(): Promise<void>;
}

export function registryBinary(): string {
  const path = join(process.env.GOBIN ?? join(homedir(), '.cache', 'maestro', 'bin'), 'maestro-oci-registry');
  if (!existsSync(path)) throw new Error(`maestro-oci-registry is not installed at ${path}: ${SETUP_HINT}`);
  return path;
}

function addressOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const address = /listening on (\S+)/.exec(out)?.[1];
      if (address) {
        child.stdout!.off('data', onData);
        resolve(address);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`maestro-oci-registry exited (${code}): ${out}`)));
  });
}

export async function startOciRegistry(): Promise<OciRegistry> {
  const child = spawn(registryBinary(), ['--address', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const host = await addressOf(child);
  child.stdout!.resume();
  const context = mkdtempSync(join(tmpdir(), 'maestro-image-'));
  return {
    host,
    pushImage(repository, tag, marker) {
      const reference = `${host}/${repository}:${tag}`;
      writeFileSync(join(context, 'marker'), marker);
      writeFileSync(join(context, 'Containerfile'), `FROM ${TEST_IMAGE}\nCOPY marker /marker\n`);
      execFileSync('podman', ['build', '-q', '-t', reference, context], { stdio: 'pipe' });
      const digestFile = join(context, 'digest');
      execFileSync('podman', ['push', '-q', '--tls-verify=false', '--digestfile', digestFile, reference], {
        stdio: 'pipe',
      });
      const digest = readFileSync(digestFile, 'utf8').trim();
      return { reference, digest };
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      rmSync(context, { recursive: true, force: true });
    },
  };
}
