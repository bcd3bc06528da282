import type { CatalogEntry, TaskCatalog } from '../core/index.ts';
import { Code } from './codes.ts';
import type { Finding } from './finding.ts';

export const repositoryTaskPrefix = './.maestro/tasks/';
/** A folder name, never a path: no `/`, no `..`, nothing a shell or a URL would read twice. */
const folderName = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/**
 * `./.maestro/tasks/<name>` → the entry the surface read from the workflow's source. The
 * compiler reads no file: the folder's task.json arrives in `catalog.repository`, so a name is
 * checked here as a plain folder name before it is looked up (a traversal never reaches a lookup).
 */
export function resolveRepositoryUses(
  uses: string,
  catalog: TaskCatalog,
  pointer: string,
): { entry: CatalogEntry } | { finding: Finding } {
  const name = uses.slice(repositoryTaskPrefix.length);
  if (!folderName.test(name))
    return {
      finding: {
        code: Code.repositoryTaskPath,
        severity: 'error',
        message: `${JSON.stringify(uses)} does not name a folder directly under .maestro/tasks/`,
        hint: 'write ./.maestro/tasks/<name>, the name in a-z, 0-9, - and _ (no /, no ..)',
        pointer,
      },
    };
  const repository = catalog.repository;
  const found = repository?.byName.get(name);
  if (!repository || !found) {
    const names = repository ? [...repository.byName.keys()].sort() : [];
    return {
      finding: {
        code: Code.repositoryTaskMissing,
        severity: 'error',
        message: repository
          ? `the repository has no task folder .maestro/tasks/${name} (with a task.json)`
          : `no workflow source was read, so ./.maestro/tasks/${name} cannot be resolved`,
        hint: repository
          ? `create .maestro/tasks/${name}/task.json; repository tasks: ${names.join(', ') || '(none)'}`
          : 'compile the manifest inside its git repository (or pass --source <dir>)',
        pointer,
      },
    };
  }
  if ('problem' in found)
    return {
      finding: {
        code: Code.repositoryTaskInvalid,
        severity: 'error',
        message: found.problem.message,
        hint: found.problem.hint,
        pointer,
      },
    };
  return found;
}
