/**
 * What `maestro tasks list` and `maestro tasks show` describe: the built-in catalog and the
 * repository's own tasks (`.maestro/tasks/*`), each with its versions, summary and support tier.
 */
import semver from 'semver';
import { UsageError } from '../core/index.ts';
import type { CatalogEntry, RepositoryTasks, TaskCatalog } from '../core/index.ts';

export interface ListedTask {
  /** What a manifest writes in `uses:` (without a version for a repository task). */
  uses: string;
  name: string;
  /** Newest first. */
  versions: string[];
  summary: string;
  /** task.json's `support`, else `core` for a built-in task and `repository` for one of yours. */
  support: string;
  source: 'builtin' | 'repository';
  /** Why a repository task cannot be used (its task.json is bad, it is a symlink). */
  problem?: string;
}

export function listTasks(catalog: TaskCatalog, repository: RepositoryTasks | undefined): ListedTask[] {
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
  return listed;
}

/**
 * `http`, `http@1`, `tasks/http@1.2` → the built-in entry (highest in the range); `./.maestro/tasks/x`
 * (or `x` when no built-in task has that name) → the repository's.
 */
export function findTask(
  ref: string,
  catalog: TaskCatalog,
  repository: RepositoryTasks | undefined,
): CatalogEntry {
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
    ...[...(repository?.byName.keys() ?? [])].map((n) => `./.maestro/tasks/${n}`),
  ];
  throw new UsageError(`no task ${ref} in the built-in catalog or the repository's .maestro/tasks/`, {
    hint: `tasks: ${known.join(', ') || '(none)'} (maestro tasks list)`,
  });
}

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface InputRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** The top-level inputs of an entry's schema, one row each (nested shapes show as their type). */
export function inputRows(entry: CatalogEntry): InputRow[] {
  const properties = isSchema(entry.inputs.properties) ? entry.inputs.properties : {};
  const required = new Set(Array.isArray(entry.inputs.required) ? entry.inputs.required.map(String) : []);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    type: typeOf(schema),
    required: required.has(name),
    description: isSchema(schema) && typeof schema.description === 'string' ? schema.description : '',
  }));
}

function typeOf(schema: unknown): string {
  if (!isSchema(schema)) return 'any';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  if (typeof schema.type === 'string')
    return schema.type === 'array' && isSchema(schema.items)
      ? `array of ${typeOf(schema.items)}`
      : schema.type;
  if (Array.isArray(schema.oneOf ?? schema.anyOf))
    return ((schema.oneOf ?? schema.anyOf) as unknown[]).map(typeOf).join(' | ');
  return 'any';
}

/** An example `with:` for the required inputs (the schema's own example or default when it has one). */
export function exampleWith(entry: CatalogEntry): Record<string, unknown> {
  const properties = isSchema(entry.inputs.properties) ? entry.inputs.properties : {};
  const example: Record<string, unknown> = {};
  for (const row of inputRows(entry).filter((r) => r.required)) {
    const schema = properties[row.name];
    example[row.name] = isSchema(schema) ? sampleOf(schema) : '…';
  }
  return example;
}

function sampleOf(schema: Schema): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '…';
  }
}
