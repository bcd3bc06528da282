// Compile benchmark: for generated manifests of 500, 5,000 and 50,000 tasks, the YAML-parse-only
// time of the same file (js-yaml load, the floor) against the full compile, medians of several runs.
// Run: node bench/compile/run.ts   (records nothing by itself; copy the table into RESULTS.md)
import { load } from 'js-yaml';
import { parseDocument } from 'yaml';
import { compileManifest } from '../../compiler/index.ts';
import { loadBuiltinCatalog } from '../../tasks/index.ts';
import { generateManifest } from './generate.ts';

const catalog = await loadBuiltinCatalog();
const sizes = [500, 5_000, 50_000];
const runs = (n: number) => (n >= 50_000 ? 5 : 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function time(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.log(
  '| tasks | file KB | parse floor: js-yaml load (ms) | full compile (ms) | ratio | target | compile µs/task | yaml parseDocument (ms) |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const size of sizes) {
  const text = generateManifest(size);
  const check = compileManifest(text, { catalog });
  if (!check.plan)
    throw new Error(`generated manifest does not compile: ${JSON.stringify(check.diagnostics[0])}`);
  // Warm up both paths, then alternate them so drift affects both equally.
  for (let i = 0; i < 2; i++) {
    load(text);
    compileManifest(text, { catalog });
  }
  const parse: number[] = [];
  const compile: number[] = [];
  const positional: number[] = [];
  for (let i = 0; i < runs(size); i++) {
    parse.push(time(() => load(text)));
    compile.push(time(() => compileManifest(text, { catalog })));
    if (i < 3) positional.push(time(() => parseDocument(text)));
  }
  const p = median(parse);
  const c = median(compile);
  console.log(
    `| ${size} | ${(text.length / 1024).toFixed(0)} | ${p.toFixed(1)} | ${c.toFixed(1)} | ${(c / p).toFixed(2)} | ≤ 2.00 | ${((c * 1000) / size).toFixed(1)} | ${median(positional).toFixed(1)} |`,
  );
}
