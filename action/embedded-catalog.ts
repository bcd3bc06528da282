import type { CatalogEntry, TaskCatalog } from '../core/index.ts';
import { catalogFromEntries } from '../core/index.ts';

// Replaced by scripts/build-action.ts (esbuild `define`) with the built-in catalog's entries:
// the bundle has no tasks/ folder beside it to read them from at run time.
declare const __MAESTRO_BUILTIN_CATALOG__: CatalogEntry[] | undefined;

/** The catalog embedded in the bundle, or undefined when running from source (tests). */
export function embeddedCatalog(): TaskCatalog | undefined {
  return typeof __MAESTRO_BUILTIN_CATALOG__ === 'undefined'
    ? undefined
    : catalogFromEntries(__MAESTRO_BUILTIN_CATALOG__);
}
