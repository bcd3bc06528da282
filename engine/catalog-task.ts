/**
 * A locked catalog task's code in an attempt's workspace. The plan names the catalog repository,
 * the exact commit and the folder (as `.maestro/tasks.lock` pinned them) and the folder's digest;
 * the engine exports that commit through the same SourceFetcher as the run's own source (one
 * mirror per URL, tokens only in git's environment), copies the folder to
 * `.maestro/catalog-tasks/<catalog>/<path>/` of the workspace and digests the copy (with the SDK
 * this engine runs it with, for a task that imports `@summit-maestro/sdk`). Anything
 * other than the locked bytes fails closed (`catalog_digest_mismatch`): a lock edited to point at
 * another commit, a catalog rewritten under the same commit name, a folder that is a link, an SDK other than the
 * one the lock was made with.
 */
import { cpSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Fault, MaestroError, packageDigest, type PlanTask, type SourceFetcher } from '../core/index.ts';

type CatalogAction = Extract<PlanTask['action'], { type: 'catalog' }>;

const PATH = /^[a-z0-9][a-z0-9_.-]{0,99}(\/[a-z0-9][a-z0-9_.-]{0,99}){0,3}$/;

/** The fetched folder is not what the lock pinned. Not retryable: the bytes will not change. */
export class CatalogDigestMismatchError extends MaestroError {
  constructor(name: string, expected: string, actual: string, commit: string) {
    super(
      'catalog_digest_mismatch',
      `catalog_digest_mismatch: the catalog task ${name} at ${commit.slice(0, 12)} has digest ${actual}, but the plan (from .maestro/tasks.lock) expects ${expected}: it does not run`,
      {
        hint: "if the catalog changed on purpose, or this Maestro's task SDK differs from the one the lock was made with (the digest of a task on the SDK covers it), run `maestro tasks lock` and review the new lock; otherwise the lock or the catalog was tampered with",
        retryable: false,
        fault: Fault.user,
      },
    );
  }
}

/** The catalog folder cannot be used at all (missing, a link, holding a link). */
export class CatalogTaskRefusedError extends MaestroError {
  constructor(name: string, reason: string) {
    super(
      'catalog_task_refused',
      `catalog_task_refused: the catalog task ${name} cannot be used: ${reason}`,
      {
        hint: 'a catalog task must be a plain folder of its repository at the locked commit: run `maestro tasks lock` again',
        retryable: false,
        fault: Fault.user,
      },
    );
  }
}

/** Whether the task is a locked catalog task (its code comes from another repository). */
export function isLockedCatalogTask(
  task: PlanTask,
): task is PlanTask & { action: CatalogAction & { source: NonNullable<CatalogAction['source']> } } {
  return task.action.type === 'catalog' && task.action.source !== undefined;
}

/** Places the locked folder in `workDir` and checks its digest; returns the digest checked. */
export async function placeCatalogTask(
  fetcher: SourceFetcher | undefined,
  task: PlanTask,
  workDir: string,
  runId: string,
  digestOf: (folder: string) => Promise<string> = packageDigest,
): Promise<string> {
  if (!isLockedCatalogTask(task)) return '';
  const { action } = task;
  const { url, commit, path } = action.source;
  // The compiler checked the path; it is checked again here because the plan came from storage.
  if (!PATH.test(path) || !action.entry?.startsWith(`.maestro/catalog-tasks/`))
    throw new CatalogTaskRefusedError(action.name, `the plan names the folder ${JSON.stringify(path)}`);
  if (!fetcher) throw new CatalogTaskRefusedError(action.name, 'this engine has no source fetcher');
  const exported = await fetcher.export({ kind: 'git', repo: url, commit }, { runId });
  const from = join(exported, path);
  const link = firstLink(exported, path.split('/')) ?? firstLinkUnder(from);
  if (link) throw new CatalogTaskRefusedError(action.name, `${link} is a symbolic link`);
  const to = join(workDir, action.entry.slice(0, action.entry.lastIndexOf('/')));
  // The workspace is the task's own copy of the run's source: a folder the repository committed
  // at this path is replaced, never merged with the catalog's files.
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  // The folder's files and, for a task on the SDK, the SDK this engine runs it with (EngineOptions).
  const actual = await digestOf(to);
  if (actual !== action.digest) {
    rmSync(to, { recursive: true, force: true });
    throw new CatalogDigestMismatchError(action.name, action.digest, actual, commit);
  }
  return actual;
}

/** The first of `root/a`, `root/a/b`, … that is a link or missing (then that is the reason). */
function firstLink(root: string, segments: string[]): string | undefined {
  let at = root;
  for (const segment of segments) {
    at = join(at, segment);
    let stat;
    try {
      stat = lstatSync(at);
    } catch {
      throw new CatalogTaskRefusedError(segments.join('/'), `the commit has no folder ${segments.join('/')}`);
    }
    if (stat.isSymbolicLink()) return at;
    if (!stat.isDirectory()) throw new CatalogTaskRefusedError(segments.join('/'), `${at} is not a folder`);
  }
  return undefined;
}

function firstLinkUnder(folder: string): string | undefined {
  for (const dirent of readdirSync(folder, { recursive: true, withFileTypes: true }))
    if (dirent.isSymbolicLink()) return join(dirent.parentPath, dirent.name);
  return undefined;
}
