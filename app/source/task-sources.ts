/**
 * What the App compiles a commit's workflows with besides the built-in catalog: the repository's
 * own tasks (`.maestro/tasks/<name>/**`) and its shared catalogs (`.maestro/catalogs.yaml`,
 * `.maestro/tasks.lock`), read from the commit's git tree and blobs, never from a working copy.
 * The checks are the CLI's (workspace/): the same task.json rules and the same digest over every
 * file of a folder, so a plan compiled by the App and by `maestro validate` agree.
 *
 * Fail closed: a symbolic link (mode 120000) anywhere in a task folder, or as the folder, refuses
 * that task (MS4009); a catalog at a local path is refused (the App never reads its own disk for
 * a push); a tree with more task files than the App reads refuses every task (MS4009).
 */
import { createHash } from 'node:crypto';
import type { LockedCatalogs, PackageFile, RepositoryTaskLookup, RepositoryTasks } from '../../core/index.ts';
import {
  CATALOGS_FILE,
  LOCK_FILE,
  lockedCatalogsOf,
  repositoryTaskFromFiles,
} from '../../workspace/index.ts';

/** A tree entry of the commit (the Git trees API's shape). */
export interface TreeEntry {
  path: string;
  sha: string;
  mode: string;
  type: string;
}

export interface TaskSources {
  repository: RepositoryTasks;
  locked: LockedCatalogs;
  /** Changes whenever any file they were read from changes: part of the compile cache's key. */
  key: string;
}

const TASKS_DIR = '.maestro/tasks/';
const FOLDER = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const SYMLINK_MODE = '120000';
/** At most this many files under .maestro/tasks/ are read (one API call each). */
export const MAX_TASK_FILES = 500;

export function isTaskSourcePath(path: string): boolean {
  return path.startsWith(TASKS_DIR) || path === CATALOGS_FILE || path === LOCK_FILE;
}

export async function readTaskSources(
  root: string,
  entries: readonly TreeEntry[],
  read: (path: string, sha: string) => Promise<string | Uint8Array>,
): Promise<TaskSources> {
  const relevant = entries
    .filter((e) => isTaskSourcePath(e.path))
    .sort((a, b) => a.path.localeCompare(b.path));
  const key = createHash('sha256')
    .update(relevant.map((e) => `${e.path}\0${e.mode}\0${e.sha}`).join('\n'))
    .digest('hex');
  const text = async (path: string) => {
    const entry = relevant.find((e) => e.path === path && e.type === 'blob' && e.mode !== SYMLINK_MODE);
    return entry ? toText(await read(path, entry.sha)) : undefined;
  };
  const locked = lockedCatalogsOf(
    root,
    { catalogs: await text(CATALOGS_FILE), lock: await text(LOCK_FILE) },
    { allowLocal: false },
  );
  return { repository: await repositoryOf(root, relevant, read), locked, key };
}

async function repositoryOf(
  root: string,
  relevant: readonly TreeEntry[],
  read: (path: string, sha: string) => Promise<string | Uint8Array>,
): Promise<RepositoryTasks> {
  const byFolder = new Map<string, TreeEntry[]>();
  for (const entry of relevant) {
    if (!entry.path.startsWith(TASKS_DIR)) continue;
    const [folder = '', ...rest] = entry.path.slice(TASKS_DIR.length).split('/');
    if (!FOLDER.test(folder)) continue;
    // The folder itself as a link has no rest; its files are the rest.
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), { ...entry, path: rest.join('/') }]);
  }
  const byName = new Map<string, RepositoryTaskLookup>();
  const files = relevant.filter((e) => e.path.startsWith(TASKS_DIR) && e.type === 'blob').length;
  for (const [name, folderEntries] of byFolder) {
    const folder = `${TASKS_DIR}${name}`;
    const link = folderEntries.find((e) => e.mode === SYMLINK_MODE);
    if (files > MAX_TASK_FILES)
      byName.set(
        name,
        refuse(
          `.maestro/tasks/ holds ${files} files, more than the ${MAX_TASK_FILES} the App reads`,
          'keep repository tasks small; vendor less into them',
        ),
      );
    else if (link)
      byName.set(
        name,
        refuse(
          `${link.path ? `${folder}/${link.path}` : folder} is a symbolic link: a repository task's folder may hold only files and folders`,
        ),
      );
    else {
      const blobs: PackageFile[] = [];
      for (const e of folderEntries.filter((x) => x.type === 'blob'))
        blobs.push({ path: e.path, bytes: toBytes(await read(`${folder}/${e.path}`, e.sha)) });
      byName.set(name, await repositoryTaskFromFiles(name, folder, blobs));
    }
  }
  return { root, byName };
}

function refuse(
  message: string,
  hint = 'replace the link by the folder itself, committed to the repository',
): RepositoryTaskLookup {
  return { problem: { code: 'repository_task_invalid', message, hint } };
}

const toText = (value: string | Uint8Array) =>
  typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
const toBytes = (value: string | Uint8Array) =>
  typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
