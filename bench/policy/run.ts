// Policy decision latency: the in-process wasm PDP (one instance, reused) over 100,000 varied
// inputs, beside `opa bench` (OPA's own Go evaluator, prepared query, same Rego and data) on a
// sample of the same inputs, on the same machine in the same run. Also the full gate
// (evaluate + hash-chained SQLite append) for a smaller count. Writes nothing; copy the printed
// table into RESULTS.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  createOpaPolicyGate,
  createPdp,
  createWorkerPdp,
  defaultPolicyDir,
  findOpa,
  openDecisionLog,
  readDefaultBundle,
} from '../../policy/index.ts';
import { generateInputs } from './inputs.ts';

const COUNT = Number(process.argv[2] ?? 100_000);
const OPA_SAMPLE = Number(process.argv[3] ?? 12);
const GATE_COUNT = 20_000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

const inputs = generateInputs(COUNT);
const bundle = await readDefaultBundle();
const pdp = await createPdp(bundle); // instantiated once; every call below reuses it

// Warm-up (JIT), not measured.
for (let i = 0; i < 2000; i++) pdp.evaluate(inputs[i % inputs.length]);

const lat = new Float64Array(COUNT);
let allowed = 0;
let overruns = 0;
const wall0 = performance.now();
for (let i = 0; i < COUNT; i++) {
  const t0 = performance.now();
  const r = pdp.evaluate(inputs[i]);
  lat[i] = performance.now() - t0;
  // A deadline overrun (a GC pause or preemption on a loaded machine) fails closed; count it.
  if (r.unavailable && r.reasons[0]?.includes('deadline')) overruns++;
  else if (r.unavailable) throw new Error(`input ${i} was not evaluated: ${r.reasons[0]}`);
  if (r.allow) allowed++;
}
const wall = performance.now() - wall0;
const sorted = Array.from(lat).sort((a, b) => a - b);
const wasm = { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN };

// The worker-thread PDP (hard deadline): same bundle, a message round trip per decision.
const worker = await createWorkerPdp(bundle);
for (let i = 0; i < 2000; i++) await worker.evaluate(inputs[i % inputs.length]);
const workerLat: number[] = [];
for (let i = 0; i < GATE_COUNT; i++) {
  const t0 = performance.now();
  await worker.evaluate(inputs[i]);
  workerLat.push(performance.now() - t0);
}
workerLat.sort((a, b) => a - b);
await worker.close();

// The gate: evaluate + append to a file-backed SQLite decision log (WAL as the engine opens it).
const dir = mkdtempSync(join(tmpdir(), 'bench-policy-'));
const db = new DatabaseSync(join(dir, 'maestro.db'));
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL'); // as the engine opens its database
const log = openDecisionLog(db);
const gate = createOpaPolicyGate({
  bundle,
  log,
  clock: { now: Date.now, sleep: async () => {} },
  isolation: 'inline',
});
const gateLat: number[] = [];
for (let i = 0; i < GATE_COUNT; i++) {
  const t0 = performance.now();
  const input = inputs[i]!;
  await gate.decide(input, { runId: 'bench', taskId: input.task.id, attempt: 1 });
  gateLat.push(performance.now() - t0);
}
gateLat.sort((a, b) => a - b);
db.close();

// The peer: opa bench on a sample of the same inputs (each run is about one second).
const opa = findOpa({ home: homedir(), path: process.env.PATH, explicit: process.env.MAESTRO_OPA });
const sample = Array.from({ length: OPA_SAMPLE }, (_, k) => Math.floor((k * COUNT) / OPA_SAMPLE));
const opaMedians: number[] = [];
const opaP99s: number[] = [];
const wasmSample: number[] = [];
for (const i of sample) {
  const file = join(dir, `input-${i}.json`);
  writeFileSync(file, JSON.stringify(inputs[i]));
  const out = execFileSync(
    opa,
    [
      'bench',
      '--format',
      'json',
      '--count',
      '1',
      '-d',
      'decision.rego',
      '-d',
      'rules.rego',
      '-d',
      'data.json',
      '-i',
      file,
      'data.maestro.policy.decision',
    ],
    { cwd: defaultPolicyDir, encoding: 'utf8' },
  );
  const extra = (JSON.parse(out) as { Extra: Record<string, number> }).Extra;
  opaMedians.push(extra['histogram_timer_rego_query_eval_ns_median']! / 1e6);
  opaP99s.push(extra['histogram_timer_rego_query_eval_ns_99%']! / 1e6);
  wasmSample.push(lat[i]!);
}
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const opaP50 = med(opaMedians);

console.log(
  `policy decision latency, ${COUNT} varied inputs (${allowed} allowed), default bundle ${bundle.digest.slice(0, 19)}…`,
);
console.log(
  `node ${process.version}, opa ${execFileSync(opa, ['version'], { encoding: 'utf8' }).split('\n')[0]}`,
);
console.log('');
console.log('| what | p50 | p99 | max |');
console.log('|---|---|---|---|');
console.log(
  `| in-process wasm PDP (1 instance, ${COUNT} calls) | ${us(wasm.p50)} | ${us(wasm.p99)} | ${us(wasm.max)} |`,
);
console.log(
  `| worker-thread PDP, hard deadline (${GATE_COUNT} calls) | ${us(quantile(workerLat, 0.5))} | ${us(quantile(workerLat, 0.99))} | ${us(workerLat.at(-1) ?? NaN)} |`,
);
console.log(
  `| gate: PDP + hash-chained SQLite append (${GATE_COUNT} calls, WAL file db, synchronous=FULL) | ${us(quantile(gateLat, 0.5))} | ${us(quantile(gateLat, 0.99))} | ${us(gateLat.at(-1) ?? NaN)} |`,
);
console.log(
  `| opa bench (Go, prepared query), median over ${OPA_SAMPLE} sampled inputs | ${us(opaP50)} | ${us(med(opaP99s))} (median of per-input p99) | |`,
);
console.log('');
console.log(`deadline overruns (failed closed) in-process: ${overruns} of ${COUNT}`);
console.log(`throughput in-process: ${Math.round(COUNT / (wall / 1000))} decisions/s`);
console.log(
  `ratio opa bench p50 / wasm p50 (same sampled inputs' wasm median ${us(med(wasmSample))}): ${(opaP50 / wasm.p50).toFixed(2)}×`,
);
console.log(`target p99 ≤ 1 ms: ${wasm.p99 <= 1 ? 'met' : 'NOT met'} (${us(wasm.p99)})`);
