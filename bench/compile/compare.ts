// Before/after of compiler changes in one process: the js-yaml floor and the compile of each
// given checkout, interleaved per iteration, CPU time (process.cpuUsage: all threads, so the GC
// helpers count too), minimum and median, and each ratio to the floor. Plans are checked
// byte-identical first. A checkout is any folder holding compiler/ and tasks/ (for example
// `git archive <commit> compiler core tasks schemas sdk package.json | tar -x -C /tmp/old`
// with node_modules linked in).
// Run: node bench/compile/compare.ts <tasks> <runs> <checkout>...
import { load } from 'js-yaml';
import { generateManifest } from './generate.ts';

type Compile = (text: string, options: { catalog: unknown }) => { plan?: unknown };

const [size, runs, ...roots] = process.argv.slice(2);
if (roots.length === 0) throw new Error('usage: compare.ts <tasks> <runs> <checkout>...');
const text = generateManifest(Number(size));
const cases: [string, () => unknown][] = [['floor (js-yaml load)', () => load(text)]];
let bytes: string | undefined;
for (const root of roots) {
  const { compileManifest } = (await import(`${root}/compiler/index.ts`)) as { compileManifest: Compile };
  const { loadBuiltinCatalog } = (await import(`${root}/tasks/index.ts`)) as {
    loadBuiltinCatalog: () => Promise<unknown>;
  };
  const catalog = await loadBuiltinCatalog();
  const plan = JSON.stringify(compileManifest(text, { catalog }).plan);
  if (bytes !== undefined && plan !== bytes) throw new Error(`${root}: the plan differs`);
  bytes = plan;
  cases.push([root, () => compileManifest(text, { catalog })]);
}

const times = cases.map((): number[] => []);
for (let i = 0; i < 3; i++) for (const [, run] of cases) run();
for (let i = 0; i < Number(runs); i++)
  cases.forEach(([, run], k) => {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    times[k]?.push((used.user + used.system) / 1000);
  });

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
const [floor = []] = times;
console.log(`${size} tasks, ${runs} runs, node ${process.version}, ${new Date().toISOString()}`);
console.log('| case | min (ms) | ratio | median (ms) | ratio |');
console.log('|---|---:|---:|---:|---:|');
cases.forEach(([name], k) => {
  const v = times[k] ?? [];
  const min = Math.min(...v);
  const mid = median(v);
  console.log(
    `| ${name} | ${min.toFixed(2)} | ${(min / Math.min(...floor)).toFixed(2)} | ${mid.toFixed(2)} | ${(mid / median(floor)).toFixed(2)} |`,
  );
});
