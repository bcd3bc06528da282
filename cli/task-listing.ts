/**
 * What `maestro tasks list` and `maestro tasks show` describe: the built-in catalog and the
 * repository's own tasks (`.maestro/tasks/*`), each with its versions, summary and support tier.
 */
import semver from 'semver';
import { UsageError } from '../core/index.ts';
import type { CatalogEntry, LockedCatalogs, RepositoryTasks, TaskCatalog } from '../core/index.ts';
export { exampleWith, inputRows, type InputRow } from './task-inputs.ts';

export interface ListedTask {
  /** What a manifest writes in `uses:` (without a version for a repository task). */
  uses: string;
  name: string;
  /** Newest first. */
  versions: string[];
  summary: string;
  /** task.json's `support`, else `core` for a built-in task and `repository` for one of yours. */
  support: string;
  source: 'builtin' | 'repository' | 'catalog';
  /** Why a repository task cannot be used (its task.json is bad, it is a symlink). */
  problem?: string;
}

export function listTasks(
  catalog: TaskCatalog,
  repository: RepositoryTasks | undefined,
  locked?: LockedCatalogs,
): ListedTask[] {
  const listed: ListedTask[] = catalog.names().map((name) => {
    const versions = semver.rsort(catalog.versions(name).map((v) => v.version));
    const newest = catalog.versions(name).find((v) => v.version === versions[0]) as CatalogEntry;
    return {
      uses: `tasks/${name}@${semver.major(newest.version)}`,
      name,
      versions,
      summary: newest.description,
      support: newest.support ?? 'core',
      source: 'builtin',
    };
  });
  for (const [name, found] of [...(repository?.byName ?? [])].sort(([a], [b]) => a.localeCompare(b)))
    listed.push(
      'entry' in found
        ? {
            uses: `./.maestro/tasks/${name}`,
            name,
            versions: [found.entry.version],
            summary: found.entry.description,
            support: found.entry.support ?? 'repository',
            source: 'repository',
          }
        : {
            uses: `./.maestro/tasks/${name}`,
            name,
            versions: [],
            summary: '',
            support: 'repository',
            source: 'repository',
            problem: found.problem.message,
          },
    );
  for (const entry of lockedEntries(locked))
    listed.push({
      uses: `${entry.name}@${semver.major(entry.version)}`,
      name: entry.name,
      versions: [entry.version],
      summary: entry.description,
      support: entry.support ?? 'catalog',
      source: 'catalog',
    });
  return listed;
}

/** The tasks `.maestro/tasks.lock` pins, as catalog entries (what the compiler resolves them to). */
export function lockedEntries(locked: LockedCatalogs | undefined): CatalogEntry[] {
  const tasks = locked?.lock?.tasks ?? {};
  return Object.keys(tasks)
    .sort()
    .flatMap((key) => {
      const task = tasks[key]!;
      const url = locked?.lock?.catalogs[task.catalog]?.url;
      return url === undefined
        ? []
        : [
            {
              name: key,
              version: task.version,
              description: task.description,
              digest: task.digest,
              inputs: task.inputs,
              outputs: task.outputs,
              entry: task.entry,
              ...(task.support === undefined ? {} : { support: task.support }),
              source: { url, commit: task.commit, path: task.path },
            },
          ];
    });
}

/**
 * `http`, `http@1`, `tasks/http@1.2` → the built-in entry (highest in the range); `./.maestro/tasks/x`
 * (or `x` when no built-in task has that name) → the repository's.
 */
export function findTask(
  ref: string,
  catalog: TaskCatalog,
  repository: RepositoryTasks | undefined,
  locked?: LockedCatalogs,
): CatalogEntry {
  const fromLock = findLocked(ref, locked);
  if (fromLock) return fromLock;
  const local = ref.startsWith('./.maestro/tasks/') ? ref.slice('./.maestro/tasks/'.length) : undefined;
  const bare = ref.replace(/^tasks\//, '');
  const at = bare.lastIndexOf('@');
  const name = local ?? (at === -1 ? bare : bare.slice(0, at));
  const range = local !== undefined || at === -1 ? '*' : bare.slice(at + 1);
  const versions = local === undefined ? catalog.versions(name) : [];
  if (versions.length > 0) {
    const best = semver.maxSatisfying(
      versions.map((v) => v.version),
      range,
    );
    const entry = versions.find((v) => v.version === best);
    if (entry) return entry;
    throw new UsageError(`no version of ${name} satisfies @${range}`, {
      hint: `versions: ${semver.rsort(versions.map((v) => v.version)).join(', ')}`,
    });
  }
  const found = repository?.byName.get(name);
  if (found && 'entry' in found) return found.entry;
  if (found) throw new UsageError(found.problem.message, { hint: found.problem.hint });
  const known = [
    ...catalog.names(),
    ...lockedEntries(locked).map((e) => e.name),
    ...[...(repository?.byName.keys() ?? [])].map((n) => `./.maestro/tasks/${n}`),
  ];
  throw new UsageError(
    `no task ${ref} in the built-in catalog, the repository's .maestro/tasks/ or .maestro/tasks.lock`,
    {
      hint: `tasks: ${known.join(', ') || '(none)'} (maestro tasks list)`,
    },
  );
}

/** `acme/slack-post` or `acme/slack-post@1`: the locked entry, when the lock has that name. */
function findLocked(ref: string, locked: LockedCatalogs | undefined): CatalogEntry | undefined {
  const at = ref.lastIndexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const entry = lockedEntries(locked).find((e) => e.name === name);
  if (!entry) return undefined;
  const range = at === -1 ? '*' : ref.slice(at + 1);
  if (semver.validRange(range) !== null && semver.satisfies(entry.version, range)) return entry;
  throw new UsageError(`${name} is locked at ${entry.version}, which does not satisfy @${range}`, {
    hint: 'run `maestro tasks lock` after pointing catalogs.yaml at another ref',
  });
}
