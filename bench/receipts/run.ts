/**
 * bench/receipts: what signed provenance costs.
 *
 *   node bench/receipts/run.ts [--runs n] [--receipts n] [--no-dag] [--json]
 *
 * 1. Receipts signed and verified per second with a local ECDSA P-256 key, through the real
 *    attestor (in-toto statement, schema check, canonical JSON, DSSE, Sigstore bundle) and
 *    verifyBundle; the peer is bare node:crypto ECDSA sign/verify of the same payload, the floor.
 * 2. The time signing adds to the 1,000-task run (20 layers × 50, two edges each: the DAG of
 *    bench/run): the real compiler, engine, SQLite store and local runner, with the attestor
 *    and without it, interleaved in the same process so drift hits both alike. Target ≤ 5%.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  canonicalJson,
  catalogFromEntries,
  policyOff,
  RunnerRegistry,
  sha256Digest,
  type AttemptEvidence,
  type Attestor,
} from '../../core/index.ts';
import { compileManifest } from '../../compiler/index.ts';
import { asyncSqliteStore, createEngine, openStore } from '../../engine/index.ts';
import { createAttestor, createLocalKeySigner, verifyBundle } from '../../provenance/index.ts';
import { baseEnvFrom, createLocalRunner } from '../../runners/index.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    receipts: { type: 'string', default: '2000' },
    'no-dag': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const receiptCount = Number(args.receipts);
const N = availableParallelism();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function evidence(i: number): AttemptEvidence {
  return {
    runId: 'bench-run',
    taskId: `t${i}`,
    attempt: 1,
    attemptId: `att-${i}`,
    planDigest: sha256Digest('plan'),
    workflow: { name: 'bench', namespace: 'bench' },
    params: {},
    definitionDigest: sha256Digest(`def-${i}`),
    runner: 'local',
    inputDigests: { a: sha256Digest(`a${i}`), b: sha256Digest(`b${i}`) },
    outputs: { rows: String(i) },
    artifacts: [{ path: 'out/report.json', digest: sha256Digest(`r${i}`), size: 100 }],
    status: 'succeeded',
    exitCode: 0,
    startedAt: 1_700_000_000_000 + i,
    finishedAt: 1_700_000_000_100 + i,
    cache: { hit: false },
    policy: { decisionIds: [`d${i}`] },
  };
}

async function throughput() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signer = createLocalKeySigner({ privateKeyPem: pem });
  const attestor = createAttestor({ signer });
  const publicKey = createPublicKey(createPrivateKey(pem));
  const inputs = Array.from({ length: receiptCount }, (_, i) => evidence(i));
  const payloads = inputs.map((e) => Buffer.from(canonicalJson(e)));
  const rows: Record<string, number[]> = { sign: [], verify: [], rawSign: [], rawVerify: [] };
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const receipts = [];
    for (const e of inputs) receipts.push(await attestor.attestAttempt(e));
    rows.sign!.push(receiptCount / ((performance.now() - t) / 1000));
    t = performance.now();
    for (const receipt of receipts) verifyBundle(receipt.bundle, { publicKey });
    rows.verify!.push(receiptCount / ((performance.now() - t) / 1000));
    t = performance.now();
    const sigs = payloads.map((p) => sign('sha256', p, privateKey));
    rows.rawSign!.push(receiptCount / ((performance.now() - t) / 1000));
    t = performance.now();
    payloads.forEach((p, i) => verify('sha256', p, publicKey, sigs[i]!));
    rows.rawVerify!.push(receiptCount / ((performance.now() - t) / 1000));
  }
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
}

/** The 20 × 50 DAG of bench/run (each task needs two of the previous layer), as a manifest. */
function dagManifest(layers = 20, width = 50): string {
  const id = (l: number, i: number) => `t${l}_${i}`;
  const lines = [
    'apiVersion: maestro/v1',
    'kind: Workflow',
    'metadata: { name: dag-1000, namespace: bench }',
    'spec:',
  ];
  lines.push('  defaults: { runner: local }', '  tasks:');
  for (let l = 0; l < layers; l++)
    for (let i = 0; i < width; i++) {
      const needs = l === 0 ? [] : [...new Set([id(l - 1, i), id(l - 1, (i + 1) % width)])];
      lines.push(
        `    - { id: ${id(l, i)}, run: "true", cache: { enabled: false }${needs.length ? `, needs: [${needs.join(', ')}]` : ''} }`,
      );
    }
  return `${lines.join('\n')}\n`;
}

async function dagRun(signed: boolean): Promise<{ ms: number; receipts: number; attestMs: number }> {
  const result = compileManifest(dagManifest(), { file: 'dag-1000.yaml', catalog: catalogFromEntries([]) });
  if (!result.plan)
    throw new Error(`bench manifest does not compile: ${JSON.stringify(result.diagnostics[0])}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-receipts-'));
  const store = openStore({ dataDir });
  const runner = createLocalRunner({ baseEnv: baseEnvFrom(process.env) });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const inner = signed
    ? createAttestor({
        signer: createLocalKeySigner({
          privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        }),
      })
    : undefined;
  // Time spent inside the attestor (statement, schema check, JSON, ECDSA, bundle): the direct
  // cost of signing, robust against the machine's noise that swamps the wall-clock comparison.
  let attestMs = 0;
  const timed = async <T>(work: Promise<T>, started: number): Promise<T> => {
    const result = await work;
    attestMs += performance.now() - started;
    return result;
  };
  const attestor: Attestor | undefined = inner && {
    attestAttempt: (evidence) => timed(inner.attestAttempt(evidence), performance.now()),
    attestRun: (evidence) => timed(inner.attestRun(evidence), performance.now()),
  };
  try {
    const engine = createEngine({
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(runner),
      concurrency: N,
      policy: policyOff('bench: receipts cost, not policy'),
      ...(attestor ? { attestor } : {}),
    });
    const t = performance.now();
    const runId = await engine.submit(result.plan);
    const run = await engine.execute(runId);
    const ms = performance.now() - t;
    if (run.status !== 'succeeded') throw new Error(`bench run ended ${run.status}`);
    return { ms, receipts: store.listReceipts(runId).length, attestMs };
  } finally {
    await runner.close();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function dag() {
  const plain: number[] = [];
  const signed: number[] = [];
  const attest: number[] = [];
  let receipts = 0;
  await dagRun(false); // warm-up: module caches, launcher
  for (let r = 0; r < runs; r++) {
    plain.push((await dagRun(false)).ms);
    const s = await dagRun(true);
    signed.push(s.ms);
    attest.push(s.attestMs);
    receipts = s.receipts;
  }
  const p = median(plain);
  const s = median(signed);
  const pairRatios = plain.map((x, i) => signed[i]! / x);
  return {
    unsignedMs: p,
    signedMs: s,
    addedPercent: ((s - p) / p) * 100,
    pairRatioMedian: median(pairRatios),
    attestMs: median(attest),
    attestPercentOfRun: median(attest.map((a, i) => (a / signed[i]!) * 100)),
    receiptsPerRun: receipts,
    plain,
    signed,
  };
}

const tp = await throughput();
const report: Record<string, unknown> = { cpus: N, runs, receipts: receiptCount, throughput: tp };
if (!args.json) {
  console.log(`receipts (${receiptCount} per run, ${runs} runs, medians):`);
  console.log(
    `  sign:   ${tp.sign!.toFixed(0)}/s  (bare ECDSA sign ${tp.rawSign!.toFixed(0)}/s, ratio ${(tp.rawSign! / tp.sign!).toFixed(2)}×)`,
  );
  console.log(
    `  verify: ${tp.verify!.toFixed(0)}/s  (bare ECDSA verify ${tp.rawVerify!.toFixed(0)}/s, ratio ${(tp.rawVerify! / tp.verify!).toFixed(2)}×)`,
  );
}
if (!args['no-dag']) {
  const d = await dag();
  report.dag = d;
  if (!args.json) {
    console.log(`dag-1000 through the engine (concurrency ${N}, ${runs} runs each, interleaved, medians):`);
    console.log(`  without receipts: ${d.unsignedMs.toFixed(0)} ms`);
    console.log(`  with receipts:    ${d.signedMs.toFixed(0)} ms  (${d.receiptsPerRun} receipts)`);
    console.log(`  samples without:  ${d.plain.map((x) => x.toFixed(0)).join(' ')} ms`);
    console.log(`  samples with:     ${d.signed.map((x) => x.toFixed(0)).join(' ')} ms`);
    console.log(
      `  wall-clock difference of medians: ${d.addedPercent.toFixed(1)}%; median paired ratio ${d.pairRatioMedian.toFixed(3)}`,
    );
    console.log(
      `  time inside the attestor: ${d.attestMs.toFixed(0)} ms = ${d.attestPercentOfRun.toFixed(1)}% of the signed run (target ≤ 5%)`,
    );
  }
}
if (args.json) console.log(JSON.stringify(report));
