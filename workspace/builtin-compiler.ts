import { compileManifest } from '../compiler/index.ts';
import type { TaskCatalog } from '../core/index.ts';
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
