/**
 * A repository's own tasks: every folder `.maestro/tasks/<name>` of the workflow's source with a
 * task.json (the built-in tasks' shape). The surface reads them and hands them to the compiler
 * inside the catalog (`catalog.repository`), so the compiler stays pure and `with:` is checked
 * against the folder's input schema at the `uses:` line.
 *
 * Fail closed: a task folder is code the engine will run, so it must be the repository's own.
 * A folder (or `.maestro`, `.maestro/tasks`, or any file inside) that is a symbolic link is
 * refused, whatever it points at: following one would let a push run (and digest) files outside
 * the checkout. Names are plain folder names (the compiler refuses `/` and `..` before a lookup).
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { InputError } from '../core/index.ts';
import type {
  CatalogEntry,
  PackageFile,
  Plan,
  RepositoryTaskLookup,
  RepositoryTasks,
  RunSource,
} from '../core/index.ts';
import { gitFor, type GitBaseEnv } from './source-git.ts';
import { isRemoteLocation } from './source-url.ts';
import { parseTaskManifest, taskDigestOfFiles } from '../tasks/index.ts';

const folderName = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const entryName = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const commandName = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

/** Reads `<root>/.maestro/tasks/*`; an absent folder is no tasks (never an error). */
export async function loadRepositoryTasks(root: string): Promise<RepositoryTasks> {
  const byName = new Map<string, RepositoryTaskLookup>();
  const tasksDir = join(root, '.maestro', 'tasks');
  for (const hop of [join(root, '.maestro'), tasksDir]) {
    const stat = await lstat(hop).catch(() => undefined);
    if (!stat) return { root, byName };
    if (stat.isSymbolicLink()) {
      // Every name under it is refused, with the reason.
      for (const name of await readdir(tasksDir).catch(() => [] as string[]))
        byName.set(
          name,
          refuse(`${hop} is a symbolic link: repository tasks must be folders of the repository`),
        );
      return { root, byName };
    }
  }
  for (const dirent of await readdir(tasksDir, { withFileTypes: true })) {
    if (!folderName.test(dirent.name)) continue;
    const folder = join(tasksDir, dirent.name);
    if (dirent.isSymbolicLink())
      byName.set(
        dirent.name,
        refuse(`${folder} is a symbolic link: a repository task must be a folder of the repository`),
      );
    else if (dirent.isDirectory()) byName.set(dirent.name, await lookupOf(dirent.name, folder));
  }
  return { root, byName };
}

function refuse(
  message: string,
  hint = 'replace the link by the folder itself, committed to the repository',
): RepositoryTaskLookup {
  return { problem: { code: 'repository_task_invalid', message, hint } };
}

async function lookupOf(name: string, folder: string): Promise<RepositoryTaskLookup> {
  const link = await firstSymlink(folder);
  if (link)
    return refuse(`${link} is a symbolic link: a repository task's folder may hold only files and folders`);
  const files: PackageFile[] = [];
  for (const dirent of await readdir(folder, { recursive: true, withFileTypes: true }))
    if (dirent.isFile()) {
      const path = relative(folder, join(dirent.parentPath, dirent.name)).split(sep).join('/');
      files.push({ path, bytes: await readFile(join(folder, path)) });
    }
  return repositoryTaskFromFiles(name, folder, files);
}

/**
 * One repository task from its folder's files (read from disk by the CLI, from git blobs by the
 * App), its symbolic links already refused: task.json checked, the entry present, the digest
 * over every file. `folder` names it in messages.
 */
export async function repositoryTaskFromFiles(
  name: string,
  folder: string,
  files: readonly PackageFile[],
): Promise<RepositoryTaskLookup> {
  const file = `${folder}/task.json`;
  const taskJson = files.find((f) => f.path === 'task.json');
  if (taskJson === undefined)
    return refuse(
      `${file} is missing`,
      `a repository task is a folder with a task.json (name, version, description, inputs, outputs)`,
    );
  let manifest: ReturnType<typeof parseTaskManifest>;
  try {
    manifest = parseTaskManifest(Buffer.from(taskJson.bytes).toString('utf8'), file);
  } catch (error) {
    return refuse((error as Error).message, 'fix the task.json: see docs/tasks.md for its shape');
  }
  const entry = manifest.raw.entry ?? 'index.ts';
  if (typeof entry !== 'string' || !entryName.test(entry))
    return refuse(
      `${file}: \`entry\` must be a file name in the task's folder (no /)`,
      'e.g. "entry": "main.py"',
    );
  if (!files.some((f) => f.path === entry))
    return refuse(
      `${file} names the entry ${entry}, which is not a file of ${folder}`,
      `add ${entry} to the folder, or name another in \`entry\``,
    );
  const python = manifest.raw.python ?? 'python3';
  if (entry.endsWith('.py') && (typeof python !== 'string' || !commandName.test(python)))
    return refuse(
      `${file}: \`python\` must be a command name on the runner's PATH (no /)`,
      'e.g. "python": "python3.12"',
    );
  const { raw: _raw, ...fields } = manifest;
  const result: CatalogEntry = {
    ...fields,
    name: `./.maestro/tasks/${name}`,
    entry: `.maestro/tasks/${name}/${entry}`,
    ...(entry.endsWith('.py') ? { interpreter: python as string } : {}),
    digest: taskDigestOfFiles(files),
  };
  return { entry: result };
}

/** The first symbolic link in `folder`'s tree, or undefined. */
async function firstSymlink(folder: string): Promise<string | undefined> {
  for (const dirent of await readdir(folder, { recursive: true, withFileTypes: true }))
    if (dirent.isSymbolicLink()) return join(dirent.parentPath, dirent.name);
  return undefined;
}

/**
 * Refuses a run whose repository tasks were compiled from files its commit does not hold. The
 * CLI reads `.maestro/tasks/` from the working tree, while the run's tasks start from a commit
 * (HEAD, or --ref): a changed, staged, untracked or ignored file in a used task's folder would
 * make the plan's code digest (the cache key's, the receipt's) describe code that never runs.
 */
export async function checkRepositoryTasksCommitted(
  plan: Plan,
  source: RunSource,
  baseEnv: GitBaseEnv = {},
): Promise<void> {
  if (source.kind !== 'git' || isRemoteLocation(source.repo)) return;
  const folders = [
    ...new Set(
      plan.tasks.flatMap((t) =>
        t.action.type === 'catalog' && t.action.entry?.startsWith('.maestro/tasks/')
          ? [t.action.entry.split('/').slice(0, 3).join('/')]
          : [],
      ),
    ),
  ];
  if (folders.length === 0) return;
  const git = gitFor({ cwd: source.repo, baseEnv });
  const [changed, untracked] = await Promise.all([
    git.raw(['diff', '--name-only', source.commit, '--', ...folders]),
    git.raw(['ls-files', '--others', '--', ...folders]),
  ]);
  const files = [...changed.split('\n'), ...untracked.split('\n')].filter(Boolean);
  if (files.length > 0)
    throw new InputError(
      'repository_task_uncommitted',
      `the repository tasks differ from the commit the run starts from (${source.commit.slice(0, 12)}): ${files.slice(0, 10).join(', ')}${files.length > 10 ? ', …' : ''}`,
      {
        hint: "commit the task folder's changes (or remove its untracked files) and run again: the plan's code digest must be the code the run runs",
      },
    );
}
