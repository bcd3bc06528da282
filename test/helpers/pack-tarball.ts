/**
 * `npm pack` of this checkout into `destination` (its `prepack` rebuilds dist/), returning the
 * tarball's path. Serialised across test files with a lock directory: two packs at once would
 * rebuild the same dist/ under each other.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';

const repo = join(import.meta.dirname, '..', '..');
// Node 24 (this process) first on PATH: npm's scripts and the bin's `#!/usr/bin/env node` use it.
export const nodeFirstEnv = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
};

/**
 * Runs `work` while holding the repository's pack lock: anything that runs `npm pack` here
 * (packTarball, scripts/release.ts in test/release-script.test.ts) goes through it.
 */
export async function withPackLock<T>(work: () => T | Promise<T>): Promise<T> {
  const lock = join(
    tmpdir(),
    `maestro-pack-${createHash('sha256').update(repo).digest('hex').slice(0, 12)}.lock`,
  );
  for (let tries = 0; ; tries++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (tries > 1200) throw new Error(`${lock} held for 10 minutes: remove it if no test is packing`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function packTarball(destination: string): Promise<string> {
  await withPackLock(() =>
    execFileSync('npm', ['pack', '--pack-destination', destination, '--silent'], {
      cwd: repo,
      env: nodeFirstEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const tarball = readdirSync(destination).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${destination}`);
  return join(destination, tarball);
}

/**
 * The build installs offline from the host's npm cache. A cold machine's cache holds the
 * lockfile's tarballs (from `npm ci`) but not the registry metadata that installing a tarball
 * resolves its dependencies with (the image build failed with ENOTCACHED on a fresh HOME):
 * install the tarball once on the host, where the registry is reachable, so the cache has both.
 */
export function warmNpmCache(tarball: string): void {
  const project = mkdtempSync(join(tmpdir(), 'maestro-image-npm-'));
  try {
    writeFileSync(join(project, 'package.json'), '{"name":"maestro-image-warm","private":true}');
    execFileSync(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball],
      { cwd: project, env: nodeFirstEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
