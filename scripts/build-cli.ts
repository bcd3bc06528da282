/**
 * Bundles the CLI of this checkout (cli/index.ts and the first-party modules it imports, each
 * command's code in chunks of its own, still loaded only when that command runs) into plain
 * JavaScript under .cache/cli/ (git-ignored), for bin/maestro.js, the launcher `npm start` and
 * `npm run maestro` run. Why: Node strips the types of every .ts file it loads (amaro, ~17 MiB
 * and tens of milliseconds per start) and resolves each module separately; one bundle of plain
 * JavaScript, with the V8 compile cache, skips both (issue 18: start-up ≤ 150 ms).
 *
 * The bundle belongs to this checkout and is never committed or shipped (the installed package
 * runs tsc's output, dist/): npm's `prepare` builds it (so a fresh clone has it after `npm ci`),
 * and the launcher rebuilds it when any of its inputs changed since (current.json lists them with
 * their size and mtime), else runs the sources if it cannot.
 *
 * Packages stay external (resolved from node_modules at run time, as from the sources: bundling
 * them took 6 s instead of 1.5 s, too slow for a rebuild on first run), but for a few bundled
 * for memory (scripts/cli-bundle-memory.ts). `import.meta.url`,
 * `.dirname` and `.filename` become the source file's own, so every file a module reads beside
 * itself (schemas, the policy bundle, task packages, workers, the launcher's C source) is found
 * where the sources would find it.
 *
 *   node scripts/build-cli.ts                 # writes .cache/cli/<build>/ and .cache/cli/current.json
 *   node scripts/build-cli.ts --if-possible   # the same, warning instead of failing (npm's prepare)
 */
import { build, type Plugin } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { asciiChunks, bundledPackages } from './cli-bundle-memory.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CLI_CACHE = join(root, '.cache', 'cli');

/** Each first-party module's import.meta, as the sources have it (see above). */
const sourceImportMeta: Plugin = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

export interface CliBuild {
  /** The build's folder under .cache/cli/, holding index.js. */
  dir: string;
  /** Every input with its size and mtime when bundled: [path relative to the checkout, size, mtimeMs]. */
  inputs: [string, number, number][];
}

export async function buildCli(): Promise<CliBuild> {
  const dir = `build-${Date.now().toString(36)}-${process.pid}`;
  const outdir = join(CLI_CACHE, dir);
  const started = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/index.ts'],
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Packages external but for the few scripts/cli-bundle-memory.ts bundles (memory: see there).
    // A bundled CommonJS module's `require` of an external one needs a `require` in its chunk.
    banner: {
      js: "import { createRequire as createRequireOfChunk } from 'node:module';\nconst require = createRequireOfChunk(import.meta.url);",
    },
    metafile: true,
    plugins: [sourceImportMeta, bundledPackages],
    logLevel: 'warning',
  });
  asciiChunks(Object.keys(result.metafile.outputs).map((path) => resolve(root, path)));
  // The build options live here and in cli-bundle-memory.ts, path aliases in tsconfig.json: a
  // change to any of them is a change.
  // A file changed after the build started may not be in it: recorded with size -1, never fresh.
  const inputs = [
    ...Object.keys(result.metafile.inputs),
    'scripts/build-cli.ts',
    'scripts/cli-bundle-memory.ts',
    'tsconfig.json',
  ].map((path): [string, number, number] => {
    const stat = statSync(resolve(root, path));
    return [path, stat.mtimeMs >= started ? -1 : stat.size, stat.mtimeMs];
  });
  const built: CliBuild = { dir, inputs };
  // Written whole, then renamed: a launcher starting meanwhile reads the old build or this one.
  const temp = join(CLI_CACHE, `current.json.${process.pid}`);
  writeFileSync(temp, JSON.stringify(built));
  renameSync(temp, join(CLI_CACHE, 'current.json'));
  removeOldBuilds(dir);
  return built;
}

/** Builds older than an hour, other than this one (a running `maestro server` may still load
 * chunks of the build it started from, so recent ones stay). */
function removeOldBuilds(keep: string): void {
  mkdirSync(CLI_CACHE, { recursive: true });
  for (const name of readdirSync(CLI_CACHE)) {
    if (!name.startsWith('build-') || name === keep) continue;
    const path = join(CLI_CACHE, name);
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) {
  // `--if-possible` (npm's prepare): a failed build must not fail an install; the launcher then
  // tries again at its first start and runs the sources if it still cannot.
  if (process.argv.includes('--if-possible'))
    await buildCli().catch((error: unknown) =>
      console.warn(`build-cli: no CLI bundle (${(error as Error).message}); bin/maestro.js will retry`),
    );
  else await buildCli();
}
