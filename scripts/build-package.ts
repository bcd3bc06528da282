/**
 * Builds the installable package into dist/ (npm's `prepack` runs it, so `npm pack` always ships
 * a fresh build): the production folders compiled to JavaScript by tsc (imports rewritten from
 * .ts to .js; Node refuses to strip types under node_modules, so an installed package cannot run
 * our TypeScript), plus every file those folders read at run time (schemas, the default policy
 * bundle, task manifests, the launcher's C source, app.yml). Tests, benchmarks and scripts stay out.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
/** Folders whose non-TypeScript files are read at run time (relative to the module that reads them). */
const assetFolders = [
  'schemas',
  'policy',
  'tasks',
  'blueprints',
  'runners',
  'app',
  'cli',
  'engine',
  'provenance',
];
const skipped = /(\.ts|README\.md|_test\.rego)$/;

rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
for (const folder of assetFolders) copyAssets(join(root, folder));
// The console's built assets, where console/serve.ts looks for them (the app's sources stay out).
execFileSync(process.execPath, [join(root, 'console', 'build.ts'), join(dist, 'console', 'dist')], {
  cwd: root,
  stdio: 'inherit',
});
cpSync(join(root, 'app.yml'), join(dist, 'app.yml'));
console.log(`build-package: dist/ ready (${relative(process.cwd(), dist) || '.'})`);

function copyAssets(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures' || name === 'dist') continue;
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (!skipped.test(name)) {
      const target = join(dist, relative(root, path));
      cpSync(path, target, { force: true });
    }
  }
}
