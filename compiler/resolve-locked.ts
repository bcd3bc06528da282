import type { CatalogEntry, LockedCatalogs, LockedTask, TaskCatalog } from '../core/index.ts';
import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { semverLibrary } from './libraries.ts';

/** `<catalog>/<path>@<range>`: a catalog name, then one to four folder names. */
const catalogName = /^[a-z][a-z0-9-]{0,39}$/;
const segment = /^[a-z0-9][a-z0-9_.-]{0,99}$/;

/** Whether `uses` has the shape of a shared catalog task (not `tasks/…`, not `./…`). */
export function isLockedUses(uses: string): boolean {
  return /^[a-z][a-z0-9-]{0,39}\/[^@]+@.+$/.test(uses) && !uses.startsWith('tasks/');
}

type Resolution = { entry: CatalogEntry } | { finding: Finding };

/**
 * `<catalog>/<path>@<range>` → the task `.maestro/tasks.lock` pinned, checked against
 * `.maestro/catalogs.yaml`. The compiler reads no file and fetches nothing: both arrive in
 * `catalog.locked`, so `with:` is type-checked from the lock alone. The path is checked as plain
 * folder names before any lookup: `..` can never name a folder outside the catalog.
 */
export function resolveLockedUses(uses: string, catalog: TaskCatalog, pointer: string): Resolution {
  const at = uses.lastIndexOf('@');
  const [name = '', ...path] = uses.slice(0, at).split('/');
  const range = uses.slice(at + 1);
  const fail = (code: Finding['code'], message: string, hint: string): Resolution => ({
    finding: { code, severity: 'error', message, hint, pointer },
  });
  if (!catalogName.test(name) || path.length < 1 || path.length > 4 || !path.every((s) => segment.test(s)))
    return fail(
      Code.catalogTaskPath,
      `${JSON.stringify(uses)} does not name a task folder inside a catalog`,
      'write <catalog>/<folder>@<range>: one to four folder names in a-z, 0-9, -, _ and . (never . or ..)',
    );
  if (!/^[0-9]+(\.[0-9]+){0,2}$/.test(range) && semverLibrary().validRange(range) === null)
    return fail(
      Code.invalidVersionRange,
      `${JSON.stringify(range)} is not a valid version range`,
      'write @1 (any 1.x), @1.2 (any 1.2.x) or @1.2.3 (exact)',
    );
  const locked = catalog.locked;
  if (!locked)
    return fail(
      Code.unknownCatalog,
      `no workflow source was read, so the catalog \`${name}\` cannot be resolved`,
      'compile the manifest inside its git repository (or pass --source <dir>)',
    );
  if (locked.problem) return fail(Code.catalogLockStale, locked.problem.message, locked.problem.hint);
  const declared = locked.declared.get(name);
  if (!declared)
    return fail(
      Code.unknownCatalog,
      `.maestro/catalogs.yaml declares no catalog \`${name}\``,
      `declare it (catalogs: { ${name}: { url: <git url>, ref: <tag or branch> } }) and run maestro tasks lock; catalogs: ${[...locked.declared.keys()].sort().join(', ') || '(none)'}`,
    );
  const task = lockedTask(locked, name, path.join('/'));
  if (typeof task === 'string')
    return fail(Code.catalogLockStale, task, 'run `maestro tasks lock` and commit .maestro/tasks.lock');
  if (!task)
    return fail(
      Code.catalogLockMissing,
      locked.lock
        ? `${name}/${path.join('/')} is not in .maestro/tasks.lock`
        : `there is no .maestro/tasks.lock, so ${name}/${path.join('/')} cannot be resolved`,
      'run `maestro tasks lock` (it pins every catalog task the workflows use) and commit .maestro/tasks.lock',
    );
  if (!semverLibrary().satisfies(task.version, range))
    return fail(
      Code.noMatchingVersion,
      `${name}/${task.path} is locked at ${task.version}, which does not satisfy @${range}`,
      `change the range, or point catalogs.yaml's ref for ${name} at a release that has it and run maestro tasks lock`,
    );
  return { entry: entryOf(task, locked.lock!.catalogs[name]!.url) };
}

/** The locked task, a reason the lock cannot be trusted for it, or undefined when it is not there. */
function lockedTask(locked: LockedCatalogs, name: string, path: string): LockedTask | string | undefined {
  const lock = locked.lock;
  if (!lock) return undefined;
  const declared = locked.declared.get(name)!;
  const pinned = lock.catalogs[name];
  if (!pinned) return undefined;
  if (pinned.url !== declared.url || pinned.ref !== declared.ref)
    return `.maestro/tasks.lock was made for ${name} at ${pinned.url} ${pinned.ref}, but catalogs.yaml says ${declared.url} ${declared.ref}`;
  const task = Object.hasOwn(lock.tasks, `${name}/${path}`) ? lock.tasks[`${name}/${path}`] : undefined;
  if (!task) return undefined;
  // A lock edited by hand: each task must be the catalog's, at the catalog's pinned commit.
  if (task.catalog !== name || task.path !== path || task.commit !== pinned.commit)
    return `.maestro/tasks.lock pins ${name}/${path} at ${task.catalog}/${task.path}@${task.commit.slice(0, 12)}, not at ${name}'s commit ${pinned.commit.slice(0, 12)}`;
  return task;
}

function entryOf(task: LockedTask, url: string): CatalogEntry {
  const folder = `.maestro/catalog-tasks/${task.catalog}/${task.path}`;
  return {
    name: `${task.catalog}/${task.path}`,
    version: task.version,
    description: task.description,
    digest: task.digest,
    inputs: task.inputs,
    outputs: [...task.outputs],
    entry: `${folder}/${task.entry}`,
    ...(task.interpreter === undefined ? {} : { interpreter: task.interpreter }),
    ...(task.targetInputs ? { targetInputs: [...task.targetInputs] } : {}),
    ...(task.support === undefined ? {} : { support: task.support }),
    source: { url, commit: task.commit, path: task.path },
  };
}
