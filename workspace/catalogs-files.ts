/**
 * `.maestro/catalogs.yaml` and `.maestro/tasks.lock`, read and checked against their schemas
 * (schemas/catalogs.schema.json, schemas/tasks-lock.schema.json). The surface reads them and
 * hands them to the compiler (`catalog.locked`), which stays pure: `with:` is type-checked
 * against the specs the lock carries, and nothing is fetched to compile.
 *
 * Where a catalog may live: `https://` anywhere, `http://` to a loopback address (as for a
 * run's source), and, for the CLI only, an absolute local path or `file://` URL. The GitHub App
 * reads the same files from a pushed commit and refuses local locations (`allowLocal: false`): a
 * push must never make the App run code from a path on the App's own machine.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type * as Ajv2020Module from 'ajv/dist/2020.js';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { load } from 'js-yaml';
import catalogsSchema from '../schemas/catalogs.schema.json' with { type: 'json' };
import lockSchema from '../schemas/tasks-lock.schema.json' with { type: 'json' };
import { InputError } from '../core/index.ts';
import type { CatalogSource, CatalogsFile, LockedCatalogs, TasksLock } from '../core/index.ts';
import { checkRemoteUrl, isRemoteLocation } from './source-url.ts';

export const CATALOGS_FILE = '.maestro/catalogs.yaml';
export const LOCK_FILE = '.maestro/tasks.lock';

export interface CatalogReadOptions {
  /** Local paths and `file://` URLs (the CLI): false for the App. */
  allowLocal: boolean;
}

// ajv on first use (only a repository with catalogs.yaml or a lock needs it), not at import:
// every `maestro validate` imports workspace/. scripts/build-action.ts bundles this call.
const requireHere = createRequire(import.meta.url);

function validatorFor(schema: object) {
  let compiled: ReturnType<Ajv2020['compile']> | undefined;
  return (value: unknown, file: string): void => {
    compiled ??= new (requireHere('ajv/dist/2020.js') as typeof Ajv2020Module).Ajv2020({
      allErrors: true,
      strict: false,
    }).compile(schema);
    if (compiled(value)) return;
    const problems = (compiled.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new InputError('catalog_file_invalid', `${file}: ${problems.join('; ')}`, {
      hint: 'see docs/tasks.md ("Shared catalogs") for its shape',
    });
  };
}
const checkCatalogs = validatorFor(catalogsSchema);
const checkLock = validatorFor(lockSchema);

/** A catalog's location as plans and locks record it: a checked URL, or an absolute path. */
export function catalogLocation(url: string, options: CatalogReadOptions, file = CATALOGS_FILE): string {
  const local = url.startsWith('file://') ? fileURLToPath(url) : isRemoteLocation(url) ? undefined : url;
  if (local === undefined) return checkRemoteUrl(url).href;
  if (!options.allowLocal)
    throw new InputError(
      'catalog_location_refused',
      `${file}: the catalog at ${JSON.stringify(url)} is a local path, which only the CLI reads`,
      { hint: 'name the catalog by its https:// clone URL' },
    );
  if (!isAbsolute(local))
    throw new InputError(
      'catalog_location_refused',
      `${file}: ${JSON.stringify(url)} is not an absolute path`,
      {
        hint: 'write an absolute path or a file:// URL for a local catalog',
      },
    );
  return local;
}

/** catalogs.yaml's text → catalog name → { url (normalised), ref }. */
export function parseCatalogsFile(
  text: string,
  options: CatalogReadOptions,
  file = CATALOGS_FILE,
): Map<string, CatalogSource> {
  let parsed: unknown;
  try {
    parsed = load(text, { filename: file });
  } catch (error) {
    throw new InputError('catalog_file_invalid', `${file} is not valid YAML: ${(error as Error).message}`);
  }
  checkCatalogs(parsed, file);
  const declared = new Map<string, CatalogSource>();
  for (const [name, source] of Object.entries((parsed as CatalogsFile).catalogs))
    declared.set(name, { url: catalogLocation(source.url, options, file), ref: source.ref });
  return declared;
}

export function parseTasksLock(text: string, file = LOCK_FILE): TasksLock {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError('catalog_file_invalid', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  checkLock(parsed, file);
  return parsed as TasksLock;
}

/** Both files' texts (undefined: the file is absent) → what the compiler is given. */
export function lockedCatalogsOf(
  root: string,
  texts: { catalogs?: string | undefined; lock?: string | undefined },
  options: CatalogReadOptions,
): LockedCatalogs {
  try {
    const declared =
      texts.catalogs === undefined
        ? new Map<string, CatalogSource>()
        : parseCatalogsFile(texts.catalogs, options);
    const lock = texts.lock === undefined ? undefined : parseTasksLock(texts.lock);
    return { root, declared, ...(lock ? { lock } : {}) };
  } catch (error) {
    const e = error as InputError;
    return {
      root,
      declared: new Map(),
      problem: { code: e.code ?? 'catalog_file_invalid', message: e.message, hint: e.hint ?? '' },
    };
  }
}

/** Reads `<root>/.maestro/catalogs.yaml` and `<root>/.maestro/tasks.lock` (either may be absent). */
export async function loadLockedCatalogs(root: string, options: CatalogReadOptions): Promise<LockedCatalogs> {
  const read = (path: string) => readFile(join(root, path), 'utf8').catch(() => undefined);
  const [catalogs, lock] = await Promise.all([read(CATALOGS_FILE), read(LOCK_FILE)]);
  return lockedCatalogsOf(root, { catalogs, lock }, options);
}
