/**
 * Bundles the GitHub Action (action/index.ts and everything it imports, node_modules included)
 * into one ESM file that plain `node` 24 runs: action/dist/index.js, committed because the
 * Actions runner does not install dependencies.
 *
 *   node scripts/build-action.ts                 # writes action/dist/index.js
 *   node scripts/build-action.ts --outfile x.js  # writes elsewhere (the staleness test)
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { relative, resolve, sep } from 'node:path';
import { loadCatalogEntries } from '../tasks/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildAction(outfile: string): Promise<void> {
  // The bundle has no tasks/ folder beside it: embed the built-in catalog. Digests are content
  // hashes, so plans compiled by the Action equal the CLI's; `entry` is made repository-relative
  // so the bundle is byte-identical wherever it is built (the staleness test relies on that).
  const catalog = (await loadCatalogEntries(resolve(root, 'tasks'))).map((entry) => ({
    ...entry,
    entry: relative(root, entry.entry).split(sep).join('/'),
  }));
  await build({
    absWorkingDir: root,
    entryPoints: ['action/index.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Some dependencies are CommonJS and call require() for Node built-ins; give them one.
    banner: {
      js: "import { createRequire as __maestroCreateRequire } from 'node:module'; const require = __maestroCreateRequire(import.meta.url);",
    },
    legalComments: 'eof',
    define: { __MAESTRO_BUILTIN_CATALOG__: JSON.stringify(catalog) },
    // Keep node_modules paths as seen from the repository even when it is a symlink (clean builds).
    preserveSymlinks: true,
    logLevel: 'warning',
  });
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--outfile');
const given = at >= 0 ? argv[at + 1] : undefined;
const outfile = given ? resolve(given) : resolve(root, 'action/dist/index.js');
await buildAction(outfile);
