// Generates docs/reference/manifest.md from schemas/manifest.schema.json (every field: type,
// description, example), docs/reference/diagnostics.md from the compiler's code table and
// docs/reference/openapi.json from the API's route table and schemas (api/openapi.ts), and
// docs/reference/tasks/ from the built-in tasks' task.json (scripts/task-reference.ts).
// `npm run gen` rewrites them; scripts/generate-reference.test.ts fails when they are stale.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { buildOpenApi, OPENAPI_VERSION } from '../api/index.ts';
import { codeDescriptions } from '../compiler/index.ts';
import { taskReferences } from './task-reference.ts';

type Schema = Record<string, unknown>;
const root = new URL('../', import.meta.url);

export async function generateReference(): Promise<Map<string, string>> {
  const schema = JSON.parse(await readFile(new URL('schemas/manifest.schema.json', root), 'utf8')) as Schema;
  return new Map([
    ['docs/reference/manifest.md', manifestReference(schema)],
    ['docs/reference/diagnostics.md', diagnosticsReference()],
    ['docs/reference/openapi.json', JSON.stringify(buildOpenApi(OPENAPI_VERSION), null, 2) + '\n'],
    ...(await taskReferences()),
  ]);
}

function resolve(schema: Schema, node: Schema): Schema {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  const target = ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((at, key) => (at as Schema)[key], schema) as Schema;
  const { $ref: _ignored, ...siblings } = node;
  return { ...resolve(schema, target), ...siblings };
}

function typeOf(schema: Schema, node: Schema): string {
  const n = resolve(schema, node);
  if ('const' in n) return `\`${JSON.stringify(n.const)}\``;
  if (Array.isArray(n.enum)) return n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' | ');
  if (Array.isArray(n.oneOf)) return n.oneOf.map((o) => typeOf(schema, o as Schema)).join(' or ');
  if (n.title === 'ManifestDuration') return 'duration';
  const type = Array.isArray(n.type) ? n.type.join(' | ') : (n.type as string | undefined);
  if (type === 'array') return `list of ${n.items ? typeOf(schema, n.items as Schema) : 'any'}`;
  if (
    type === 'object' &&
    n.additionalProperties &&
    typeof n.additionalProperties === 'object' &&
    !n.properties
  )
    return `map of ${typeOf(schema, n.additionalProperties as Schema)}`;
  return type ?? 'any';
}

function example(node: Schema): string {
  const examples = Array.isArray(node.examples) ? node.examples : [];
  return examples.length === 0 ? '' : examples.map((e) => `\`${JSON.stringify(e)}\``).join(', ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The object schema a field leads into (itself, or its list items / map values), if any. */
function objectBehind(schema: Schema, node: Schema): { suffix: string; object: Schema } | undefined {
  const n = resolve(schema, node);
  if (n.properties) return { suffix: '', object: n };
  // A choice (`oneOf`) leads into the first of its branches that is an object (or a list of them).
  if (Array.isArray(n.oneOf))
    for (const branch of n.oneOf as Schema[]) {
      const inner = objectBehind(schema, branch);
      if (inner) return inner;
    }
  if (n.type === 'array' && n.items) {
    const inner = objectBehind(schema, n.items as Schema);
    return inner ? { suffix: `[]${inner.suffix}`, object: inner.object } : undefined;
  }
  if (n.type === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object') {
    const inner = objectBehind(schema, n.additionalProperties as Schema);
    return inner ? { suffix: `.<name>${inner.suffix}`, object: inner.object } : undefined;
  }
  return undefined;
}

function manifestReference(schema: Schema): string {
  const out: string[] = [
    '# Manifest reference (`apiVersion: maestro/v1`)',
    '',
    '<!-- Generated from schemas/manifest.schema.json by scripts/generate-reference.ts. Do not edit. -->',
    '',
    String(schema.description ?? ''),
    '',
    'Durations are strings of `<integer><unit>` parts (`ms`, `s`, `m`, `h`, `d`): `500ms`, `2s`, `10m`, `1h30m`.',
    'Strings may hold expressions: `${params.x}`, `${secrets.NAME}`, `${workload.identity}`,',
    '`${tasks.<id>.outputs.<name>}`, `${matrix.<key>}`, `${run.id}` (`$${` writes a literal `${`).',
    'Diagnostics are listed in [diagnostics.md](diagnostics.md).',
    '',
  ];
  const sections: { path: string; object: Schema }[] = [{ path: '(top level)', object: schema }];
  for (let i = 0; i < sections.length; i++) {
    const { path, object } = sections[i] as { path: string; object: Schema };
    const required = new Set((object.required as string[] | undefined) ?? []);
    out.push(`## \`${path}\``, '');
    if (object.description && path !== '(top level)') out.push(String(object.description), '');
    out.push('| field | type | required | description | example |', '|---|---|---|---|---|');
    for (const [name, raw] of Object.entries(object.properties as Record<string, Schema>)) {
      const node = resolve(schema, raw);
      const field = path === '(top level)' ? name : `${path}.${name}`;
      const behind = objectBehind(schema, raw);
      if (behind) sections.push({ path: `${field}${behind.suffix}`, object: behind.object });
      const link = behind
        ? ` (see [\`${field}${behind.suffix}\`](#${anchor(`${field}${behind.suffix}`)}))`
        : '';
      out.push(
        `| \`${name}\` | ${cell(typeOf(schema, raw))} | ${required.has(name) ? 'yes' : ''} | ${cell(String(node.description ?? ''))}${link} | ${cell(example(node))} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

function diagnosticsReference(): string {
  const rows = Object.entries(codeDescriptions).map(([code, text]) => `| \`${code}\` | ${cell(text)} |`);
  return [
    '# Compiler diagnostics',
    '',
    '<!-- Generated from compiler/codes.ts by scripts/generate-reference.ts. Do not edit. -->',
    '',
    'Every diagnostic has a stable `code`, a `severity`, a `message`, usually a `hint`, a JSON `pointer`',
    'into the manifest and a 1-based range (`line`, `column`, `endLine`, `endColumn`). A code never',
    'changes meaning. `MS0xxx`: reading the file; `MS1xxx`: the schema; `MS2xxx`: tasks and the DAG;',
    '`MS3xxx`: expressions and conditions; `MS4xxx`: the task catalog.',
    '',
    '| code | meaning |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await mkdir(new URL('docs/reference/tasks/', root), { recursive: true });
  for (const [path, text] of await generateReference()) {
    await writeFile(new URL(path, root), text);
    console.log(`wrote ${path}`);
  }
}
