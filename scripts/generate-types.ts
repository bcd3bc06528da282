// Generates core/generated/*.ts from schemas/*.schema.json and schemas/api/*.schema.json (the REST
// API's bodies, to core/generated/api.ts) and today's SIG contracts (schemas/sig/<contract>/v3/, to
// core/generated/sig-<contract>.ts; older majors are data the clients downgrade to), so types and
// schemas cannot drift.
// `npm run gen` rewrites them; core/generated.test.ts fails when they are stale.
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { compile } from 'json-schema-to-typescript';

const root = new URL('../', import.meta.url);

export async function generateTypes(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const list = async (dir: string) =>
    (await readdir(new URL(dir, root)))
      .filter((f) => f.endsWith('.schema.json'))
      .sort()
      .map((f) => `${dir.slice('schemas/'.length)}${f}`);
  const sig = ['ingest', 'claims', 'runbook-trigger'].map((c) => `sig/${c}/v3/${c}.schema.json`);
  const files = [...(await list('schemas/')), ...(await list('schemas/api/')), ...sig];
  for (const file of files) {
    const schema = JSON.parse(await readFile(new URL(`schemas/${file}`, root), 'utf8'));
    const name = file.startsWith('sig/')
      ? `sig-${file.split('/')[1]}`
      : file.replace('.schema.json', '').replace(/^.*\//, '');
    const ts = await compile(schema, schema.title ?? name, {
      bannerComment: `// Generated from schemas/${file} by scripts/generate-types.ts. Do not edit.`,
      additionalProperties: false,
      style: { singleQuote: true, printWidth: 110, trailingComma: 'all' },
      unreachableDefinitions: true,
      cwd: new URL('schemas/', root).pathname,
    });
    out.set(`core/generated/${name}.ts`, ts);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, ts] of await generateTypes()) {
    await writeFile(new URL(path, root), ts);
    console.log(`wrote ${path}`);
  }
}
