import { compileManifest } from '../compiler/index.ts';
import type { TaskCatalog } from '../core/index.ts';
import { withRepositoryTasks } from '../core/index.ts';
import type { ManifestFile } from './find-manifests.ts';
import { loadRepositoryTasks } from './repository-tasks.ts';
import { loadLockedCatalogs } from './catalogs-files.ts';
import { sourceRootOf } from './resolve-source.ts';
import type { GitBaseEnv } from './source-git.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import type { CompileFn } from './validate-manifests.ts';

/**
 * The compiler bound to a task catalog: by default the built-in one read from tasks/ (what
 * `maestro validate` uses). The bundled Action passes the same catalog embedded at build time,
 * because a bundle has no tasks/ folder beside it.
 */
export async function builtinCompiler(catalog?: TaskCatalog): Promise<CompileFn> {
  const resolved = await builtinCatalog(catalog);
  return (source, file) => compileManifest(source, { file, catalog: resolved });
}

/** The given (embedded) catalog, else the built-in one read from tasks/: what runs use too. */
export async function builtinCatalog(catalog?: TaskCatalog): Promise<TaskCatalog> {
  return catalog ?? (await loadBuiltinCatalog());
}

export interface SourceCompilerOptions {
  catalog?: TaskCatalog;
  cwd: string;
  /** `--source <dir>`: read repository tasks there instead of the manifest's repository. */
  source?: string;
  baseEnv?: GitBaseEnv;
  /** Read no repository tasks (a remote source): `uses: ./.maestro/tasks/…` is then MS4008. */
  noRepository?: boolean;
}

/**
 * The compiler for these files, each with the built-in catalog plus the repository tasks
 * (`.maestro/tasks/*`) of its source (sourceRootOf): what `maestro validate`, `compile` and
 * `run` use. Each source folder is read once, however many manifests it holds.
 */
export async function sourceCompiler(
  files: readonly ManifestFile[],
  options: SourceCompilerOptions,
): Promise<CompileFn> {
  const base = await builtinCatalog(options.catalog);
  if (options.noRepository) return (source, file) => compileManifest(source, { file, catalog: base });
  const byRoot = new Map<string, Promise<TaskCatalog>>();
  const byDisplay = new Map<string, TaskCatalog>();
  for (const file of files) {
    const root = await sourceRootOf(file.path, options);
    let catalog = byRoot.get(root);
    if (!catalog)
      byRoot.set(
        root,
        (catalog = Promise.all([
          loadRepositoryTasks(root),
          loadLockedCatalogs(root, { allowLocal: true }),
        ]).then(([tasks, locked]) => withRepositoryTasks(base, tasks, locked))),
      );
    byDisplay.set(file.display, await catalog);
  }
  return (source, file) => compileManifest(source, { file, catalog: byDisplay.get(file) ?? base });
}
