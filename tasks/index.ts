// The built-in task catalog: every folder under tasks/ holding a task.json is one catalog task.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  catalogFromEntries,
  digestPackageFiles,
  InputError,
  isPackageFile,
  lazyCatalog,
  packageDigestSync,
} from '../core/index.ts';
import type { CatalogEntry, PackageFile, TaskCatalog } from '../core/index.ts';
import { loadBlueprints } from './load-blueprints.ts';
export { loadBlueprints, parseBlueprint } from './load-blueprints.ts';
// The http task's request (redirects under the egress allow-list): the engine's `wait` polls with it.
export { sendRequest as sendHttpRequest, type HttpInputs } from './http/request.ts';

const tasksRoot = fileURLToPath(new URL('.', import.meta.url));
// A task's entry is index.ts in a checkout and index.js in the installed package (compiled by
// scripts/build-package.ts): the same extension as this module's.
const entryFile = import.meta.url.endsWith('.ts') ? 'index.ts' : 'index.js';

/**
 * The built-in catalog: tasks/<name>/task.json of every built-in task with each package's digest,
 * and the blueprints. Each half is read on first use (lazyCatalog): most manifests name no
 * catalog task and no blueprint, and reading and digesting every package was the largest part of
 * `maestro validate`'s start-up (~120 ms). Digests are computed from the files as they are then.
 */
export async function loadBuiltinCatalog(): Promise<TaskCatalog> {
  return {
    ...lazyCatalog(() => catalogFromEntries(loadCatalogEntries(tasksRoot))),
    // The blueprints beside tasks/ (docs/blueprints.md): `spec.blueprint.uses` resolves here.
    blueprints: lazyCatalog(() => loadBlueprints(join(tasksRoot, '..', 'blueprints'), packageDigestSync)),
  };
}

/** Catalog entries of every task package directly under `root` (a folder with a task.json). */
export function loadCatalogEntries(root: string): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  for (const dirent of readdirSync(root, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (!dirent.isDirectory()) continue;
    const folder = join(root, dirent.name);
    let manifest: string;
    try {
      manifest = readFileSync(join(folder, 'task.json'), 'utf8');
    } catch {
      continue; // not a task package
    }
    entries.push(entryOf(folder, manifest));
  }
  return entries;
}

function entryOf(folder: string, manifestText: string): CatalogEntry {
  return {
    ...parseTaskManifest(manifestText, join(folder, 'task.json')),
    entry: join(folder, entryFile),
    digest: taskDigest(folder),
  };
}

/** A task.json's fields (the same shape for built-in and repository tasks); `file` names it in errors. */
export function parseTaskManifest(
  manifestText: string,
  file: string,
): Omit<CatalogEntry, 'entry' | 'digest'> & { raw: Record<string, unknown> } {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(manifestText) as Record<string, unknown>;
  } catch (error) {
    throw new InputError('task_package_invalid', `${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InputError('task_package_invalid', `${file} must hold a JSON object`);
  const { name, version, description, inputs, outputs, targetInputs, image, support } = parsed;
  if (typeof name !== 'string' || typeof version !== 'string' || typeof description !== 'string')
    throw new InputError('task_package_invalid', `${file} needs string name, version and description`);
  if (inputs !== undefined && (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)))
    throw new InputError('task_package_invalid', `${file}: \`inputs\` must be a JSON Schema object`);
  return {
    raw: parsed,
    name,
    version,
    description,
    inputs: (inputs ?? { type: 'object' }) as Record<string, unknown>,
    outputs: Array.isArray(outputs) ? outputs.map(String) : [],
    ...(Array.isArray(targetInputs) ? { targetInputs: targetInputs.map(String) } : {}),
    ...(typeof image === 'string' ? { image } : {}),
    ...(typeof support === 'string' ? { support } : {}),
  };
}

/** The package digest (core/package-digest.ts): one definition for every kind of task. */
export { packageDigest } from '../core/index.ts';

/** The task SDK's folder (its source in a checkout, its compiled files in the installed package). */
const sdkRoot = join(tasksRoot, '..', 'sdk');
// Replaced by scripts/build-action.ts (esbuild `define`) with sdkDigest() of sdk/ at build time:
// the Action's bundle has no sdk/ folder beside it, yet it must digest a repository task on the
// SDK as `maestro validate` does (the bundle's staleness test keeps the two equal).
declare const __MAESTRO_SDK_DIGEST__: string | undefined;

/**
 * The digest of the SDK folder `sdk` (this install's by default): in the Action's bundle, the one
 * embedded at build time; undefined when there is no such folder (a task on the SDK is then
 * covered by its own files only).
 */
export function sdkDigest(sdk: string = sdkRoot): string | undefined {
  if (sdk === sdkRoot && typeof __MAESTRO_SDK_DIGEST__ === 'string') return __MAESTRO_SDK_DIGEST__;
  return existsSync(sdk) ? flatDigest(sdk) : undefined;
}

/**
 * Node arguments that make `import '@summit-maestro/sdk'` resolve to this install's SDK: what a
 * repository task on the SDK runs with (the runtime passes them to the engine).
 */
export function sdkNodeArgs(): string[] {
  const hook = join(sdkRoot, `register.${entryFile.slice(-2)}`);
  // A bundle (the Action) has no sdk/ folder beside it: no hook, and such an import fails plainly.
  return existsSync(hook) ? ['--import', pathToFileURL(hook).href] : [];
}

/**
 * A task's code digest. A task built on the SDK runs the SDK's code too (its input checks, its
 * messages), so a change to the SDK must change the plans that use the task, as a change to
 * the task's own files does: its digest then covers both, package digest, NUL, SDK digest.
 * Which tasks: those whose entry imports the SDK (the built-in tasks import it by this path).
 * A built-in task that also runs sig/'s clients, or a sibling task's helpers (`../sig.ingest/`),
 * adds each of those folders' digests after the SDK's, in that order: their code is its code.
 */
export function taskDigest(folder: string, entryName: string = entryFile): string {
  const own = packageDigestSync(folder);
  let entry = '';
  try {
    entry = readFileSync(join(folder, entryName), 'utf8');
  } catch {
    // no entry file: the package's own digest
  }
  // Built-in tasks import it by path; repository tasks by its package name (sdk/register.ts).
  const parts = [own];
  if (/from ['"](\.\.\/\.\.\/sdk\/index\.[jt]s|@summit-maestro\/sdk)['"]/.test(entry))
    parts.push(flatDigest(sdkRoot));
  // A built-in task may also run core's or a sibling's code (http: core's loopback check, telemetry's span).
  if (folder.startsWith(tasksRoot)) parts.push(...builtinImports(folder));
  if (parts.length === 1) return own;
  return `sha256:${createHash('sha256').update(parts.join('\0')).digest('hex')}`;
}

/**
 * The code digest of a task that is not built in: a repository task (`uses: ./.maestro/tasks/…`,
 * read from disk by the CLI, from git blobs by the App) or a locked catalog task (by
 * `maestro tasks lock`, and by the engine again over the fetched copy before it runs). Such a
 * task never ships the SDK it imports: `node --import sdk/register` (sdkNodeArgs) resolves
 * `@summit-maestro/sdk` to the SDK of the Maestro that runs it, whatever the folder holds (a
 * vendored node_modules copy is shadowed). So when any of its JS/TS files names the SDK (a static
 * import, a dynamic one, a require), its digest is package digest, NUL, SDK digest, as a built-in
 * task's: a changed SDK changes the plan's digest, the lock's and the receipt's. A task that
 * bundled the SDK into its own files names no `@summit-maestro/sdk` and is covered by its files.
 * `sdk` is the SDK folder to digest (this install's; tests pass a copy).
 */
export function taskDigestOfFiles(files: readonly PackageFile[], sdk: string = sdkRoot): string {
  const own = digestPackageFiles(files.filter((f) => isPackageFile(f.path)));
  const imports = files.some(
    (f) =>
      CODE_FILE.test(f.path) &&
      isPackageFile(f.path) &&
      SDK_SPECIFIER.test(Buffer.from(f.bytes).toString('utf8')),
  );
  const sdkPart = imports ? sdkDigest(sdk) : undefined;
  if (sdkPart === undefined) return own;
  return `sha256:${createHash('sha256').update([own, sdkPart].join('\0')).digest('hex')}`;
}

/** taskDigestOfFiles over a folder on disk (a catalog task's export, or the engine's copy of it). */
export async function taskDigestOfFolder(folder: string, sdk: string = sdkRoot): Promise<string> {
  const files: PackageFile[] = [];
  for (const dirent of await readdir(folder, { recursive: true, withFileTypes: true }))
    if (dirent.isFile()) {
      const path = relative(folder, join(dirent.parentPath, dirent.name)).split(sep).join('/');
      files.push({ path, bytes: await readFile(join(folder, path)) });
    }
  return taskDigestOfFiles(files, sdk);
}

/** The SDK's specifier in quotes, as an import, `import()` or `require()` names it. */
const SDK_SPECIFIER = /['"]@summit-maestro\/sdk['"]/;
/** Files Node may load as code. */
const CODE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/** Digests of sig/, core/ and of sibling task folders that a built-in task's files import. */
function builtinImports(folder: string): string[] {
  const texts = readdirSync(folder)
    .filter((n) => /\.[jt]s$/.test(n) && !/\.test\.[jt]s$/.test(n))
    .map((n) => readFileSync(join(folder, n), 'utf8'));
  const all = texts.join('\n');
  const digests: string[] = [];
  if (/from ['"]\.\.\/\.\.\/sig\/index\.[jt]s['"]/.test(all))
    digests.push(flatDigest(join(tasksRoot, '..', 'sig')));
  // core/'s code runs too where a task imports a value from it (isLoopbackHost), not a type only.
  if (/^import (?!type )[^;]*from ['"]\.\.\/\.\.\/core\/index\.[jt]s['"]/m.test(all))
    digests.push(flatDigest(join(tasksRoot, '..', 'core')));
  const siblings = new Set(
    [...all.matchAll(/from ['"]\.\.\/([a-z0-9][a-z0-9.-]*)\//g)].map((m) => m[1] as string),
  );
  for (const name of [...siblings].sort()) digests.push(packageDigestSync(join(tasksRoot, name)));
  return digests;
}

/** sdk/, sig/ and core/'s own files are flat folders: their top-level files, tests excluded (never a build or node_modules). */
function flatDigest(root: string): string {
  const names = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isFile() && !d.name.endsWith('.test.ts') && !d.name.endsWith('.test.js'))
    .map((d) => d.name)
    .sort();
  const hash = createHash('sha256');
  for (const name of names) {
    const bytes = readFileSync(join(root, name));
    hash.update(`${name}\0${bytes.byteLength}\0`);
    hash.update(bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}
