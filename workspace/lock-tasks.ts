/**
 * `maestro tasks lock`: every `uses: <catalog>/<path>@<range>` of the repository's workflows
 * resolved to an exact commit and a digest of its folder, with the task's input and output spec,
 * into `.maestro/tasks.lock`. This is the only step that reads a catalog's ref; compiling reads
 * the lock alone, and a run fetches the locked commit and checks the folder's digest again
 * (engine/catalog-task.ts), so a ref moved after locking changes nothing until the next lock.
 */
import { readFileSync } from 'node:fs';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { createRequire } from 'node:module';
import type * as Semver from 'semver';
import { InputError, UsageError } from '../core/index.ts';
import type { CatalogSource, LockedTask, TasksLock } from '../core/index.ts';
import { parseTaskManifest, taskDigestOfFolder } from '../tasks/index.ts';
import { CATALOGS_FILE, LOCK_FILE, parseCatalogsFile } from './catalogs-files.ts';
import { findManifests } from './find-manifests.ts';
import { catalogTokenVariable } from './catalog-credentials.ts';
import { createSourceFetcher } from './source-fetcher.ts';
import { gitFor, type GitBaseEnv, type GitCredential } from './source-git.ts';
import { fetchIntoMirror } from './source-mirror.ts';

// semver on first use (locking tasks), not at import: every `maestro validate` imports workspace/.
// scripts/build-action.ts bundles this call.
const requireHere = createRequire(import.meta.url);
const semverLibrary = () => requireHere('semver') as typeof Semver;
import { checkRemoteUrl, isRemoteLocation } from './source-url.ts';

const USES = /^([a-z][a-z0-9-]{0,39})\/([^@\s]+)@(.+)$/;
const SEGMENT = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const ENTRY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const COMMAND = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

export interface LockTasksOptions {
  /** The repository root (holding `.maestro/`). */
  root: string;
  /** Where catalog mirrors and exports are kept (the CLI's data dir). */
  dataDir: string;
  baseEnv?: GitBaseEnv;
  /** Resolve and compare only: the file is left as it is (`maestro tasks lock --check`, for CI). */
  check?: boolean;
  /**
   * The credential for a private catalog's URL (catalog-credentials.ts: the CLI's environment and
   * git credential helper), asked per fetch. It is sent in git's environment only: nothing of it
   * is in the lock, the mirror or a message.
   */
  credentials?: (url: string) => Promise<GitCredential | undefined>;
}

export interface LockTasksResult {
  lock: TasksLock;
  file: string;
  /** Whether the file on disk already held exactly this lock (before any write). */
  upToDate: boolean;
  /** One line per task: `acme/slack-post 1.2.0 <commit> <digest>`. */
  lines: string[];
}

export async function lockTasks(options: LockTasksOptions): Promise<LockTasksResult> {
  const catalogsText = await readFile(join(options.root, CATALOGS_FILE), 'utf8').catch(() => undefined);
  if (catalogsText === undefined)
    throw new UsageError(`${join(options.root, CATALOGS_FILE)} does not exist: there is no catalog to lock`, {
      hint: 'declare catalogs: { <name>: { url: <git url>, ref: <tag or branch> } } in .maestro/catalogs.yaml',
    });
  const declared = parseCatalogsFile(catalogsText, { allowLocal: true });
  const uses = catalogUses(options.root);
  const lock: TasksLock = { lockVersion: 1, catalogs: {}, tasks: {} };
  const lines: string[] = [];
  const exportOf = createSourceFetcher({
    dataDir: options.dataDir,
    ...baseEnvOf(options),
    ...(options.credentials ? { tokenFor: options.credentials } : {}),
  });
  for (const [name, source] of [...declared].sort(([a], [b]) => a.localeCompare(b))) {
    const commit = await resolveRef(source, options);
    lock.catalogs[name] = { url: source.url, ref: source.ref, commit };
    const wanted = [...uses].filter((u) => u.catalog === name);
    if (wanted.length === 0) continue;
    const dir = await exportOf.export({ kind: 'git', repo: source.url, commit });
    for (const use of wanted) {
      const task = await lockedTaskOf(dir, name, use, commit);
      lock.tasks[`${name}/${use.path}`] = task;
      lines.push(`${name}/${use.path}  ${task.version}  ${commit.slice(0, 12)}  ${task.digest}`);
    }
  }
  for (const use of uses)
    if (!declared.has(use.catalog))
      throw new InputError(
        'catalog_unknown',
        `${use.file} uses ${use.uses}, but ${CATALOGS_FILE} declares no catalog ${use.catalog}`,
        { hint: `declare ${use.catalog} (url and ref) in ${CATALOGS_FILE}` },
      );
  const file = join(options.root, LOCK_FILE);
  const text = JSON.stringify(sortedLock(lock), null, 2) + '\n';
  const upToDate = (await readFile(file, 'utf8').catch(() => undefined)) === text;
  if (!options.check && !upToDate) await writeFile(file, text);
  return { lock, file, lines, upToDate };
}

function baseEnvOf(options: LockTasksOptions): { baseEnv?: GitBaseEnv } {
  return options.baseEnv ? { baseEnv: options.baseEnv } : {};
}

interface CatalogUse {
  catalog: string;
  path: string;
  range: string;
  uses: string;
  file: string;
}

/** The distinct catalog `uses:` of the repository's manifests (by catalog and path). */
function catalogUses(root: string): CatalogUse[] {
  const byKey = new Map<string, CatalogUse>();
  let files;
  try {
    files = findManifests([root], { cwd: root });
  } catch {
    return [];
  }
  for (const file of files) {
    if (file.outsideRoot) continue;
    let doc: unknown;
    try {
      doc = load(readFileSync(file.path, 'utf8'));
    } catch {
      continue; // `maestro validate` reports it; the lock is about the files that parse
    }
    const tasks = (doc as { spec?: { tasks?: unknown } } | null)?.spec?.tasks;
    for (const task of Array.isArray(tasks) ? tasks : []) {
      const uses = (task as { uses?: unknown } | null)?.uses;
      if (typeof uses !== 'string' || uses.startsWith('tasks/') || uses.startsWith('./')) continue;
      const m = USES.exec(uses);
      if (!m) continue;
      const [, catalog, path, range] = m as unknown as [string, string, string, string];
      if (!path.split('/').every((s) => SEGMENT.test(s)) || path.split('/').length > 4)
        throw new InputError(
          'catalog_task_path',
          `${file.display}: ${uses} does not name a task folder inside the catalog ${catalog}`,
          { hint: 'one to four folder names in a-z, 0-9, -, _ and . (never . or ..)' },
        );
      byKey.set(`${catalog}/${path}`, { catalog, path, range, uses, file: file.display });
    }
  }
  return [...byKey.values()].sort((a, b) => a.uses.localeCompare(b.uses));
}

async function resolveRef(source: CatalogSource, options: LockTasksOptions): Promise<string> {
  if (isRemoteLocation(source.url)) {
    const { hostname } = checkRemoteUrl(source.url); // before any credential is looked up for it
    const credential = await options.credentials?.(source.url);
    return (
      await fetchIntoMirror({
        dataDir: options.dataDir,
        url: source.url,
        want: source.ref,
        ...(credential ? { token: credential.token, username: credential.username } : {}),
        ...baseEnvOf(options),
        failureHint: `check the url and ref in ${CATALOGS_FILE}; a private catalog needs ${catalogTokenVariable(hostname)} (its user ${catalogTokenVariable(hostname, 'USER')}, default x-access-token) or a git credential helper that knows ${hostname}`,
      })
    ).commit;
  }
  try {
    const out = await gitFor({ cwd: source.url, ...baseEnvOf(options) }).raw([
      'rev-parse',
      '--verify',
      '--quiet',
      `${source.ref}^{commit}`,
    ]);
    return out.trim();
  } catch {
    throw new InputError('catalog_ref_unknown', `the catalog ${source.url} has no ref ${source.ref}`, {
      hint: `check the ref in ${CATALOGS_FILE} (a tag, branch or commit of that repository)`,
    });
  }
}

/** The folder `path` of the export: plain folders only, a valid task.json, its entry present. */
async function lockedTaskOf(
  dir: string,
  catalog: string,
  use: CatalogUse,
  commit: string,
): Promise<LockedTask> {
  const where = `${catalog}/${use.path} (${commit.slice(0, 12)})`;
  const refuse = (
    message: string,
    hint = 'a catalog task is a plain folder with a task.json and its entry',
  ) => new InputError('catalog_task_invalid', `${where}: ${message}`, { hint });
  let at = dir;
  for (const segment of use.path.split('/')) {
    at = join(at, segment);
    const stat = await lstat(at).catch(() => undefined);
    if (!stat) throw refuse(`the catalog has no folder ${use.path}`, `check ${use.uses} against the catalog`);
    if (stat.isSymbolicLink()) throw refuse(`${use.path} passes through a symbolic link`);
    if (!stat.isDirectory()) throw refuse(`${use.path} is not a folder`);
  }
  for (const dirent of await readdir(at, { recursive: true, withFileTypes: true }))
    if (dirent.isSymbolicLink())
      throw refuse(`${join(dirent.parentPath, dirent.name).slice(dir.length + 1)} is a symbolic link`);
  const manifest = parseTaskManifest(
    await readFile(join(at, 'task.json'), 'utf8').catch(() => {
      throw refuse('task.json is missing');
    }),
    `${where}/task.json`,
  );
  const entry = manifest.raw.entry ?? 'index.ts';
  if (typeof entry !== 'string' || !ENTRY.test(entry))
    throw refuse('`entry` must be a file name in the folder');
  if (!(await lstat(join(at, entry)).catch(() => undefined))?.isFile())
    throw refuse(`the entry ${entry} is missing`);
  const python = manifest.raw.python ?? 'python3';
  if (entry.endsWith('.py') && (typeof python !== 'string' || !COMMAND.test(python)))
    throw refuse('`python` must be a command name (no /)');
  const semver = semverLibrary();
  if (!semver.valid(manifest.version))
    throw refuse(`version ${JSON.stringify(manifest.version)} is not semver`);
  if (!semver.satisfies(manifest.version, use.range))
    throw new InputError(
      'catalog_no_matching_version',
      `${use.file}: ${use.uses}, but ${where} is version ${manifest.version}`,
      {
        hint: `change the range, or point the catalog's ref in ${CATALOGS_FILE} at a release that satisfies it`,
      },
    );
  return {
    catalog,
    path: use.path,
    commit,
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    ...(manifest.support === undefined ? {} : { support: manifest.support }),
    // Its files and, when it imports it, the SDK this Maestro runs it with (tasks/index.ts).
    digest: await taskDigestOfFolder(at),
    entry,
    ...(entry.endsWith('.py') ? { interpreter: python as string } : {}),
    inputs: manifest.inputs,
    outputs: manifest.outputs,
    ...(manifest.targetInputs ? { targetInputs: manifest.targetInputs } : {}),
  };
}

/** Keys in a stable order, so a re-lock with nothing changed leaves the file byte for byte. */
function sortedLock(lock: TasksLock): TasksLock {
  const sort = <T>(record: Record<string, T>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  return { lockVersion: 1, catalogs: sort(lock.catalogs), tasks: sort(lock.tasks) };
}
