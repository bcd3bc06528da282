/**
 * The policy, provenance and telemetry seams with the real components: the OPA gate with the
 * default bundle, the provenance attestor with a local P-256 key, and the OTel SDK's in-memory
 * exporter.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry, systemClock, type PolicyGate } from '../core/index.ts';
import { createEngine, openStore, type EngineOptions, asyncSqliteStore } from '../engine/index.ts';
import { createOpaPolicyGate, defaultBundlePath, openDecisionLog } from '../policy/index.ts';
import { createAttestor, createLocalKeySigner } from '../provenance/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

// Real local runners started by this file, closed at the end (their launcher processes).
const runners: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(r: T): T => (runners.push(r), r);
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

function setup(extra: Partial<EngineOptions> = {}) {
  const dataDir = tempDir();
  const store = openStore({ dataDir });
  const engine = createEngine({
    policy: policyOff('engine test: mechanics, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(track(recordingLocalRunner())),
    ...extra,
  });
  return { dataDir, store, engine };
}

function opaGate(dataDir: string, bundle: string = defaultBundlePath) {
  return createOpaPolicyGate({
    bundle,
    log: openDecisionLog(join(dataDir, 'decisions.db')),
    clock: systemClock,
  });
}

describe('policy seam (real OPA gate, default bundle)', () => {
  it('asks before every attempt and records the decision ids on the attempt', async () => {
    const dataDir = tempDir();
    const { engine, store } = setup({ policy: opaGate(dataDir) });
    const plan = planOf([shellTask('ok', 'true')], {
      policy: { purpose: 'test', authority: 'me', license: 'internal' },
    });
    const runId = await engine.submit(plan);
    expect((await engine.execute(runId)).status).toBe('succeeded');
    const [attempt] = store.listAttempts(runId, 'ok');
    expect(attempt!.policyDecisionIds).toHaveLength(1);
    expect(store.listLogs(runId, null).map((l) => l.text)).toContain(
      'policy context: purpose=test authority=me license=internal',
    );
  });

  it('blocks a denied task with the reasons in its log, and never runs it nor leaves its folders', async () => {
    const dataDir = tempDir();
    const { engine, store, dataDir: engineDir } = setup({ policy: opaGate(dataDir) });
    const plan = planOf([shellTask('t', 'true')], { policy: { license: 'no-such-license' } });
    const runId = await engine.submit(plan);
    expect((await engine.execute(runId)).status).toBe('failed');
    expect(store.getTask(runId, 't')).toMatchObject({ state: 'blocked_by_policy', reason: 'policy_denied' });
    expect(store.listAttempts(runId, 't')).toHaveLength(0);
    expect(store.listLogs(runId, 't')[0]!.text).toMatch(
      /policy denied .*license "no-such-license" is not on the allow-list/,
    );
    // The folders are claimed while the policy decides (engine/attempt-prepare.ts): a denied
    // attempt's are removed again, so nothing of it is left in the data dir.
    const work = join(engineDir, 'work', runId);
    expect(existsSync(work) ? readdirSync(work) : []).toEqual([]);
  });

  it('hands the policy the workflow labels, so a workflow labelled sensitive needs its purpose', async () => {
    const dataDir = tempDir();
    const { engine, store } = setup({ policy: opaGate(dataDir) });
    const workflow = {
      kind: 'Workflow' as const,
      name: 'export',
      namespace: 'test',
      labels: { 'maestro.dev/sensitive': 'true' },
    };
    const bare = await engine.submit(planOf([shellTask('t', 'true')], { workflow }));
    expect((await engine.execute(bare)).status).toBe('failed');
    expect(store.getTask(bare, 't')).toMatchObject({ state: 'blocked_by_policy', reason: 'policy_denied' });
    expect(store.listLogs(bare, 't')[0]!.text).toMatch(/purpose/);

    const policy = { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' };
    const declared = await engine.submit(planOf([shellTask('t', 'true')], { workflow, policy }));
    expect((await engine.execute(declared)).status).toBe('succeeded');
  });

  it('fails closed: an unreadable bundle blocks with policy_unavailable, and so does a gate that throws', async () => {
    const dataDir = tempDir();
    const { engine, store } = setup({ policy: opaGate(dataDir, join(dataDir, 'missing-bundle.tar.gz')) });
    const runId = await engine.submit(planOf([shellTask('t', 'true')]));
    await engine.execute(runId);
    expect(store.getTask(runId, 't')).toMatchObject({
      state: 'blocked_by_policy',
      reason: 'policy_unavailable',
    });
    const throwing: PolicyGate = {
      decide: () => Promise.reject(new Error('decision log is not writable')),
    };
    const second = setup({ policy: throwing });
    const id = await second.engine.submit(planOf([shellTask('t', 'true')]));
    await second.engine.execute(id);
    expect(second.store.getTask(id, 't')).toMatchObject({
      state: 'blocked_by_policy',
      reason: 'policy_unavailable',
    });
    expect(second.store.listLogs(id, 't')[0]!.text).toContain('decision log is not writable');
  });
});

describe('provenance seam (real attestor, local key)', () => {
  it('stores a signed receipt for every attempt (succeeded, failed, cached) and for the run', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const attestor = createAttestor({
      signer: createLocalKeySigner({
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      }),
    });
    const { engine, store } = setup({ attestor });
    const cached = shellTask('build', 'echo "out=1" >> "$MAESTRO_OUTPUT"; echo data > a.txt', {
      cache: { enabled: true },
      outputs: ['out'],
      artifacts: ['a.txt'],
    });
    const first = await engine.submit(planOf([cached, shellTask('bad', 'exit 1')]));
    await engine.execute(first);
    const second = await engine.submit(planOf([cached]));
    await engine.execute(second);
    const receipts = store.listReceipts(first);
    expect(receipts.map((r) => `${r.taskId}#${r.attempt}`).sort()).toEqual(['#0', 'bad#1', 'build#1']);
    for (const r of receipts) expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const statement = (r: { bundle: unknown }) => {
      const envelope = (r.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope;
      return Buffer.from(envelope.payload, 'base64').toString('utf8');
    };
    const build = statement(receipts.find((r) => r.taskId === 'build')!);
    expect(build).toContain(first);
    expect(build).toContain('a.txt');
    const cachedReceipt = store.listReceipts(second).find((r) => r.taskId === 'build')!;
    expect(statement(cachedReceipt)).toContain('cached');
  });
});

describe('telemetry seam (OTel SDK, in-memory exporter)', () => {
  it('emits a run span and a span per attempt', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const { engine } = setup({ tracer: provider.getTracer('test') });
    const runId = await engine.submit(
      planOf([
        shellTask('a', 'true'),
        shellTask('b', 'exit 1', {
          needs: ['a'],
          retry: { limit: 1, backoff: { initialMs: 1, factor: 1, maxMs: 1 }, jitter: 'none' },
        }),
      ]),
    );
    await engine.execute(runId);
    const spans = exporter.getFinishedSpans();
    const run = spans.filter((s) => s.name === 'maestro.run');
    expect(run).toHaveLength(1);
    expect(run[0]!.attributes['maestro.run.id']).toBe(runId);
    const attempts = spans.filter((s) => s.name === 'maestro.attempt');
    expect(
      attempts.map(
        (s) => `${String(s.attributes['maestro.task.id'])}#${String(s.attributes['maestro.attempt'])}`,
      ),
    ).toEqual(['a#1', 'b#1', 'b#2']);
    expect(attempts.map((s) => s.attributes['maestro.attempt.outcome'])).toEqual([
      'succeeded',
      'failed',
      'failed',
    ]);
  });
});
