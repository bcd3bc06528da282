/**
 * What scripts/build-cli.ts does to the CLI bundle for memory (issue 18: the quickstart run's
 * peak RSS ≤ 80 MiB). Each part was measured on `npm start` (GNU time's max RSS, alternated with
 * the bundle without it; bench/startup/RESULTS.md):
 *
 * - **A few packages bundled** (the rest stay external): a package of many small modules costs a
 *   module record, a source string and a compile-cache entry per file (@opentelemetry/api: 44
 *   modules for the no-op spans of a local run), and a package whose source holds one non-ASCII
 *   character is kept by V8 as a two-byte string, twice its size (js-yaml); esbuild escapes such
 *   characters and tree-shakes what is never imported.
 * - **Modules a bundled package loads but a run never calls, deferred** to their first call:
 *   opa-wasm's YAML builtins load their own yaml 1.x (~300 KB of source) for three builtins our
 *   policy never calls, and pino loads its worker-thread transport (thread-stream, …) for a
 *   `pino.transport()` the CLI never asks for.
 * - **ASCII chunks**: esbuild escapes non-ASCII characters in code but keeps them in the comments
 *   it keeps, and one `→` in a comment made the 770 KB shared chunk a two-byte string (1.5 MB of
 *   heap for as long as the process lives: V8 keeps each module's source to compile its functions
 *   lazily). The post-pass writes them as `\uXXXX`, which means the same everywhere JavaScript
 *   allows it.
 */
import type { Plugin } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The packages bundled into the CLI's chunks instead of resolved from node_modules at run time. */
export const BUNDLED_PACKAGES = [
  '@opentelemetry/api',
  'js-yaml',
  '@open-policy-agent/opa-wasm',
  'sprintf-js', // opa-wasm's string builtins
  'pino',
  'commander',
  'simple-git',
  '@marcbachmann/cel-js',
];

/** Modules of bundled packages replaced by a stand-in that loads the real one on first call: the
 * package, the module's path inside it. Each exports only functions (checked at build time). */
const DEFERRED: [pkg: string, file: string][] = [
  ['@open-policy-agent/opa-wasm', 'src/builtins/yaml.js'],
  ['pino', 'lib/transport.js'],
];

const require = createRequire(import.meta.url);

/** Where a package's folder is (its package.json, found from its main entry). */
function packageDir(pkg: string): string {
  const nameAt = (dir: string) => {
    const manifest = join(dir, 'package.json');
    return existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name
      : undefined;
  };
  let dir = dirname(require.resolve(pkg));
  while (nameAt(dir) !== pkg) {
    if (dirname(dir) === dir) throw new Error(`${pkg}: no package.json of its own`);
    dir = dirname(dir);
  }
  return dir;
}

/**
 * The stand-in's CommonJS source: each exported function forwards to the real module, required
 * (from node_modules, with its own dependencies) on the first call. `process.getBuiltinModule`
 * because a bundled CommonJS module has no `require` of its own in an ESM chunk.
 */
export function deferredStandIn(path: string): string {
  const real: unknown = require(path);
  const load =
    `let real;\nconst load = () => (real ??= process.getBuiltinModule('node:module')` +
    `.createRequire(${JSON.stringify(path)})(${JSON.stringify(path)}));\n`;
  if (typeof real === 'function')
    return `${load}module.exports = function (...args) { return load().apply(this, args); };\n`;
  const names = Object.keys(real as object);
  const notFunction = names.filter((n) => typeof (real as Record<string, unknown>)[n] !== 'function');
  if (typeof real !== 'object' || real === null || notFunction.length > 0)
    throw new Error(`${path}: only functions can be deferred (${notFunction.join(', ')})`);
  const forwards = names.map(
    (n) =>
      `  ${JSON.stringify(n)}: function (...args) { return load()[${JSON.stringify(n)}].apply(this, args); },`,
  );
  return `${load}module.exports = {\n${forwards.join('\n')}\n};\n`;
}

/**
 * An external package imported by a bundled one is resolved at run time from the chunk's folder,
 * not from the importing package's: refuse to build when that finds another copy (a version
 * nested in the package's own node_modules).
 */
function sameFromChunk(specifier: string, importer: string): void {
  if (!importer.includes('/node_modules/') || specifier.startsWith('node:')) return;
  const where = (from: string) => {
    try {
      return createRequire(from).resolve(specifier);
    } catch {
      return undefined;
    }
  };
  const fromImporter = where(importer);
  const fromChunk = where(join(dirname(require.resolve('../package.json')), '.cache', 'cli', 'chunk.js'));
  if (fromImporter !== fromChunk)
    throw new Error(`${importer} imports ${specifier} (${fromImporter}), a chunk would load ${fromChunk}`);
}

/** Bundles BUNDLED_PACKAGES (every other package external) and puts the stand-ins in. */
export const bundledPackages: Plugin = {
  name: 'bundled-packages',
  setup(b) {
    const standIns = new Map(DEFERRED.map(([pkg, file]) => [join(packageDir(pkg), file), true]));
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const pkg = /^(@[^/]+\/)?[^/]+/.exec(args.path)?.[0] ?? args.path;
      if (!BUNDLED_PACKAGES.includes(pkg)) {
        sameFromChunk(args.path, args.importer);
        return { external: true };
      }
      const { kind, resolveDir, importer } = args;
      return b.resolve(args.path, { kind, resolveDir, importer, pluginData: 'resolving' });
    });
    b.onLoad({ filter: /\.js$/ }, (args) =>
      standIns.has(args.path) ? { contents: deferredStandIn(args.path), loader: 'js' } : undefined,
    );
  },
};

/** Rewrites every non-ASCII UTF-16 unit of the written chunks as `\uXXXX` (see above). */
export function asciiChunks(files: string[]): void {
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const ascii = source.replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    if (ascii !== source) writeFileSync(file, ascii);
  }
}
