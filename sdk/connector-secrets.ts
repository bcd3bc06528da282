/**
 * A connector's config holds credentials (an API key, a database password): its spec marks them
 * as Airbyte does, `airbyte_secret: true` on the property. The connector's code is handed the
 * real values, and the SDK masks every one of them (`***`) in what the connector reports: logs,
 * outputs, checkpoints, progress, and the message of an error it throws. The runner redacts the
 * secrets it knows of (`${secrets.NAME}`) as well; this covers a value it cannot know is one (a
 * key pasted into `with:`, a password read from a file).
 */
export const MASK = '***';

/** The string values at the properties the schema marks `airbyte_secret: true`, at any depth. */
export function secretValues(schema: unknown, value: unknown): string[] {
  const found = new Set<string>();
  collect(schema, value, found);
  return [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

function collect(schema: unknown, value: unknown, into: Set<string>): void {
  if (schema === null || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if (s.airbyte_secret === true) return leaves(value, into);
  for (const branch of ['allOf', 'anyOf', 'oneOf'] as const)
    if (Array.isArray(s[branch])) for (const sub of s[branch] as unknown[]) collect(sub, value, into);
  if (Array.isArray(value)) {
    for (const item of value) collect(s.items, item, into);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  for (const [name, sub] of Object.entries(properties))
    if (Object.hasOwn(value, name)) collect(sub, (value as Record<string, unknown>)[name], into);
}

/** Every string or number under a secret property (a PIN given as a number is still a secret). */
function leaves(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (typeof value === 'number') into.add(String(value));
  else if (Array.isArray(value)) for (const v of value) leaves(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) leaves(v, into);
}

/** `text` with every secret masked (longest first, so a secret inside another goes too). */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.replaceAll(secret, MASK);
  return out;
}

/** A JSON value with every string leaf (and object key) masked. */
export function maskValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  return walk(value, secrets) as T;
}

function walk(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return maskText(value, secrets);
  if (typeof value === 'number' && secrets.includes(String(value))) return MASK;
  if (Array.isArray(value)) return value.map((v) => walk(v, secrets));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [maskText(k, secrets), walk(v, secrets)]),
    );
  return value;
}

type Schema = Record<string, unknown>;
const isSchema = (s: unknown): s is Schema => s !== null && typeof s === 'object' && !Array.isArray(s);
const BRANCHES = ['allOf', 'anyOf', 'oneOf'] as const;
const escape = (name: string) => name.replaceAll('~', '~0').replaceAll('/', '~1');
const unescape = (part: string) => part.replaceAll('~1', '/').replaceAll('~0', '~');

/** The JSON Pointers (into the config) of every secret property: what `configSecrets` may name. */
export function secretPointers(schema: unknown, at = ''): string[] {
  if (!isSchema(schema)) return [];
  const found: string[] = [];
  for (const branch of BRANCHES)
    if (Array.isArray(schema[branch]))
      for (const sub of schema[branch] as unknown[]) found.push(...secretPointers(sub, at));
  for (const [name, sub] of Object.entries(isSchema(schema.properties) ? schema.properties : {})) {
    const here = `${at}/${escape(name)}`;
    if (isSchema(sub) && sub.airbyte_secret === true) found.push(here);
    else found.push(...secretPointers(sub, here));
  }
  return [...new Set(found)];
}

/** The pointers of the secret properties `value` holds: a secret given inline, in `with:`. */
export function presentSecrets(schema: unknown, value: unknown, at = ''): string[] {
  if (!isSchema(schema) || value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const branch of BRANCHES)
    if (Array.isArray(schema[branch]))
      for (const sub of schema[branch] as unknown[]) found.push(...presentSecrets(sub, value, at));
  if (Array.isArray(value))
    value.forEach((item, i) => found.push(...presentSecrets(schema.items, item, `${at}/${i}`)));
  else
    for (const [name, sub] of Object.entries(isSchema(schema.properties) ? schema.properties : {})) {
      if (!Object.hasOwn(value, name)) continue;
      const here = `${at}/${escape(name)}`;
      if (isSchema(sub) && sub.airbyte_secret === true) found.push(here);
      else found.push(...presentSecrets(sub, (value as Schema)[name], here));
    }
  return [...new Set(found)];
}

/**
 * The config schema as `with:` is checked against it: a secret property is never required there
 * (it arrives from `env:` through `configSecrets`), everything else as the connector says. The
 * whole config is checked against the connector's own schema once the secrets are filled in.
 */
export function withoutSecretRequired(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutSecretRequired);
  if (!isSchema(schema)) return schema;
  const copy: Schema = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, withoutSecretRequired(v)]),
  );
  const properties = isSchema(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required))
    copy.required = (schema.required as unknown[]).filter((name) => {
      const sub = properties[name as string];
      return !(isSchema(sub) && sub.airbyte_secret === true);
    });
  return copy;
}

/** `value` with `pointer` set (objects made on the way). */
export function setPointer(value: Schema, pointer: string, to: unknown): void {
  const parts = pointer.split('/').slice(1).map(unescape);
  let at = value;
  for (const part of parts.slice(0, -1)) {
    if (!isSchema(at[part])) at[part] = {};
    at = at[part] as Schema;
  }
  at[parts.at(-1)!] = to;
}
