#!/usr/bin/env node
/**
 * `maestro` from a checkout (`npm start`, `npm run maestro`): runs the CLI bundled as plain
 * JavaScript by scripts/build-cli.ts, which starts in a fraction of the time the TypeScript
 * sources take (no type stripping, one module per command instead of hundreds). This file is
 * JavaScript for the same reason: the first .ts file a process loads costs ~17 MiB and tens of
 * milliseconds for Node's type stripper. The bundle is rebuilt here whenever one of its inputs
 * changed since it was built; when it cannot be, the sources run (bin/maestro.ts, which the
 * installed package and the tests use, always runs them).
 */
import { readFileSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const bundles = join(root, '.cache', 'cli');

// V8 caches the compiled code on disk, so a start after the first skips most of the parsing.
enableCompileCache(
  join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'maestro', 'node-compile-cache'),
);

/** The bundle's entry when every input is as it was bundled (size and mtime), else undefined. */
function freshBundle() {
  let built;
  try {
    built = JSON.parse(readFileSync(join(bundles, 'current.json'), 'utf8'));
  } catch {
    return undefined;
  }
  for (const [path, size, mtimeMs] of built.inputs) {
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    if (stat === undefined || stat.size !== size || stat.mtimeMs !== mtimeMs) return undefined;
  }
  return join(bundles, built.dir, 'index.js');
}

async function entry() {
  const fresh = freshBundle();
  if (fresh !== undefined) return fresh;
  // Loaded only to rebuild: node:child_process alone is ~15 ms of a start.
  const { spawnSync } = await import('node:child_process');
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.ts')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const rebuilt = build.status === 0 ? freshBundle() : undefined;
  if (rebuilt !== undefined) return rebuilt;
  const why = (build.stderr || build.error?.message || 'its inputs changed while it was built').trim();
  process.stderr.write(`maestro: could not bundle the CLI (${why.split('\n')[0]}); running the sources\n`);
  return join(root, 'cli', 'index.ts');
}

const { main } = await import(pathToFileURL(await entry()).href);
process.exitCode = await main(process.argv.slice(2));
