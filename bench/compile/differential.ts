// Differential check of two compilers: every manifest in the repository and the 500-task bench
// manifest, each as it is and with one member of a task (or of the spec) set to a wrong or edge
// value, compiled by both checkouts; the results (plan, diagnostics with file, line, column,
// message and hint, kind, name) must be the same bytes. A checkout is a folder with compiler/
// and tasks/ (see compare.ts).
// Run: node bench/compile/differential.ts <old checkout> <new checkout>
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dump, load } from 'js-yaml';
import { generateManifest } from './generate.ts';

type Compile = (text: string, options: { catalog: unknown; file?: string }) => unknown;
type Json = Record<string, unknown>;

const roots = process.argv.slice(2);
if (roots.length !== 2) throw new Error('usage: differential.ts <old checkout> <new checkout>');
const compilers = await Promise.all(
  roots.map(async (root) => {
    const { compileManifest } = (await import(`${root}/compiler/index.ts`)) as { compileManifest: Compile };
    const { loadBuiltinCatalog } = (await import(`${root}/tasks/index.ts`)) as {
      loadBuiltinCatalog: () => Promise<unknown>;
    };
    const catalog = await loadBuiltinCatalog();
    return (text: string) => JSON.stringify(compileManifest(text, { catalog, file: 'm.yaml' }));
  }),
);

const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && readFileSync(f, 'utf8').includes('apiVersion: maestro/v1'));
const sources = files.map((f) => readFileSync(f, 'utf8')).concat(generateManifest(500));

/** A task member's wrong and edge values (`undefined` deletes it). */
const taskEdits: [string, unknown][] = [
  ['id', '1bad'],
  ['id', 'x'.repeat(65)],
  ['id', 3],
  ['id', undefined],
  ['run', ''],
  ['run', 5],
  ['run', ['echo', 'x']],
  ['run', []],
  ['run', undefined],
  ['run', 'echo ${params.nope}'],
  ['env', { 'A-B': 'x' }],
  ['env', { A: null }],
  ['env', { A: [1] }],
  ['env', 'x'],
  ['env', { MAESTRO_X: '1' }],
  ['needs', 'a'],
  ['needs', [3]],
  ['needs', ['x'.repeat(65)]],
  ['needs', ['nope']],
  ['needs', ['a', 'a']],
  ['when', ''],
  ['when', 'params.'],
  ['when', 3],
  ['outputs', ['a', 'a']],
  ['outputs', ['1x']],
  ['outputs', 'r'],
  ['timeout', '10'],
  ['timeout', 'x'],
  ['timeout', 5],
  ['runner', 'docker'],
  ['resources', 'huge'],
  ['ifSkipped', 'never'],
  ['onInterrupt', 'x'],
  ['network', 'host'],
  ['uses', 'tasks/http@1'],
  ['image', 'busybox'],
  ['command', ['sh']],
  ['args', ['-c']],
  ['unknown', 1],
  ['retry', { limit: -1 }],
  ['cache', { ttl: 'x' }],
  ['description', 'x'.repeat(1025)],
  ['hostAccess', false],
  ['matrix', { os: [] }],
];
const specEdits: [string, unknown][] = [
  ['tasks', []],
  ['tasks', {}],
  ['unknown', 1],
  ['timeout', 'x'],
  ['params', { 'bad name': { type: 'string' } }],
];

function edited(value: Json, path: 'task' | 'spec', index: number, key: string, to: unknown): Json {
  const copy = structuredClone(value);
  const spec = copy.spec as Json;
  const target = path === 'spec' ? spec : ((spec.tasks as Json[])[index] as Json);
  if (to === undefined) delete target[key];
  else target[key] = structuredClone(to);
  return copy;
}

function variants(source: string): string[] {
  const out = [source];
  let value: unknown;
  try {
    value = load(source);
  } catch {
    return out;
  }
  const spec = (value as Json | null)?.spec as Json | undefined;
  if (!spec || typeof spec !== 'object') return out;
  for (const [key, to] of specEdits) out.push(dump(edited(value as Json, 'spec', 0, key, to)));
  const tasks = Array.isArray(spec.tasks) ? spec.tasks : [];
  const picks = [...new Set([0, tasks.length >> 1, tasks.length - 1])].filter(
    (i) => i >= 0 && i < tasks.length,
  );
  for (const i of picks) {
    if (tasks[i] === null || typeof tasks[i] !== 'object') continue;
    for (const [key, to] of taskEdits) out.push(dump(edited(value as Json, 'task', i, key, to)));
  }
  return out;
}

let total = 0;
let withDiagnostics = 0;
let differ = 0;
for (const source of sources)
  for (const text of variants(source)) {
    total++;
    const [a, b] = compilers.map((compile) => compile(text));
    if (!(a as string).includes('"diagnostics":[]')) withDiagnostics++;
    if (a !== b) {
      differ++;
      if (differ <= 3)
        console.log(
          `differs:\n${text.slice(0, 400)}\n--- old\n${a?.slice(0, 600)}\n--- new\n${b?.slice(0, 600)}`,
        );
    }
  }
console.log(
  `${files.length} files + the 500-task manifest: ${total} variants (${withDiagnostics} with diagnostics), ${differ} differ`,
);
if (differ > 0) process.exitCode = 1;
