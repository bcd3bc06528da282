import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { BlueprintEntry, CatalogEntry, TaskCatalog } from '../core/index.ts';
import { blueprintCatalogFromEntries, catalogFromEntries } from '../core/index.ts';

// Replaced by scripts/build-action.ts (esbuild `define`) with the built-in catalog's entries:
// the bundle has no tasks/ folder beside it to read them from at run time.
declare const __MAESTRO_BUILTIN_CATALOG__: CatalogEntry[] | undefined;
// And the blueprints (blueprints/*/blueprint.yaml), which are data.
declare const __MAESTRO_BUILTIN_BLUEPRINTS__: BlueprintEntry[] | undefined;

/** The catalog embedded in the bundle, or undefined when running from source (tests). */
export function embeddedCatalog(): TaskCatalog | undefined {
  return typeof __MAESTRO_BUILTIN_CATALOG__ === 'undefined'
    ? undefined
    : {
        ...catalogFromEntries(
          // Entries are repository-relative; the bundle runs from <checkout>/action/dist, and
          // `uses: <owner>/maestro/action@<ref>` checks out the whole repository, tasks/ included.
          __MAESTRO_BUILTIN_CATALOG__.map((e) => ({ ...e, entry: resolve(checkoutRoot(), e.entry) })),
        ),
        blueprints: blueprintCatalogFromEntries(
          typeof __MAESTRO_BUILTIN_BLUEPRINTS__ === 'undefined' ? [] : __MAESTRO_BUILTIN_BLUEPRINTS__,
        ),
      };
}

function checkoutRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}
