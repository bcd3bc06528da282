/**
 * Bundles the GitHub Action (action/index.ts and everything it imports, node_modules included)
 * into one ESM file that plain `node` 24 runs: action/dist/index.js, committed because the
 * Actions runner does not install dependencies.
 *
 *   node scripts/build-action.ts                 # writes action/dist/index.js
 *   node scripts/build-action.ts --outfile x.js  # writes elsewhere (the staleness test)
 */
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { relative, resolve, sep } from 'node:path';
import { packageDigestSync } from '../core/index.ts';
import { loadBlueprints, loadCatalogEntries, sdkDigest } from '../tasks/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * runners/container/docker-library.ts loads dockerode through a createRequire'd `requireHere(...)`
 * so a CLI command pays for it only when the container runner starts; compiler/libraries.ts loads
 * yaml, ajv, semver and cron-parser the same way, for the compiles that need them, and
 * provenance/libraries.ts the Sigstore signer and verifier, semver and tar.
 * esbuild cannot follow that call, and the Action's checkout has no node_modules to require from
 * (the step failed with "Cannot find module 'dockerode'"). Here the same call becomes a plain
 * `require('<literal>')`, which esbuild resolves and bundles, still evaluated on first use. The
 * Kubernetes client (20 MB bundled) stays out: the Action runs on the job's machine, and
 * runners/kubernetes says so when its library is missing.
 */
const lazyLibraryFiles =
  /[\\/](runners[\\/]container[\\/]docker-library|compiler[\\/]libraries|engine[\\/](trace-context|upload-extract)|provenance[\\/]libraries|workspace[\\/](catalogs-files|lock-tasks|source-git))\.ts$/;
const bundleRunnerLibraries: Plugin = {
  name: 'bundle-runner-libraries',
  setup(b) {
    b.onLoad({ filter: lazyLibraryFiles }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source.replace(/\brequireHere\(/g, 'require(');
      if (contents === source) throw new Error(`${args.path}: no requireHere(...) call to bundle`);
      return { contents, loader: 'ts' };
    });
  },
};

export async function buildAction(outfile: string): Promise<void> {
  // The bundle has no tasks/ folder beside it: embed the built-in catalog. Digests are content
  // hashes, so plans compiled by the Action equal the CLI's; `entry` is made repository-relative
  // so the bundle is byte-identical wherever it is built (the staleness test relies on that).
  const catalog = (await loadCatalogEntries(resolve(root, 'tasks'))).map((entry) => ({
    ...entry,
    entry: relative(root, entry.entry).split(sep).join('/'),
  }));
  // The blueprints too (data: their workflows and parameter schemas), so `spec.blueprint`
  // resolves in the Action as it does in the CLI.
  const blueprintCatalog = await loadBlueprints(resolve(root, 'blueprints'), packageDigestSync);
  const blueprints = blueprintCatalog.names().flatMap((name) => blueprintCatalog.versions(name));
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
    define: {
      __MAESTRO_BUILTIN_CATALOG__: JSON.stringify(catalog),
      __MAESTRO_BUILTIN_BLUEPRINTS__: JSON.stringify(blueprints),
      // And sdk/'s digest: a repository or catalog task on the SDK digests over it (tasks/index.ts).
      __MAESTRO_SDK_DIGEST__: JSON.stringify(sdkDigest()),
      // CommonJS dependencies of dockerode read __dirname, which an ES module does not have.
      __dirname: 'import.meta.dirname',
      __filename: 'import.meta.filename',
    },
    // Keep node_modules paths as seen from the repository even when it is a symlink (clean builds).
    preserveSymlinks: true,
    plugins: [bundleRunnerLibraries],
    // dockerode's ssh transport (ssh2) tries optional native addons and carries on without them.
    external: ['cpu-features', '*.node'],
    logLevel: 'warning',
  });
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--outfile');
const given = at >= 0 ? argv[at + 1] : undefined;
const outfile = given ? resolve(given) : resolve(root, 'action/dist/index.js');
await buildAction(outfile);
