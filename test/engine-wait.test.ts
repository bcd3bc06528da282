/**
 * The `wait` task as an engine primitive, in one process on an injected clock: an HTTP condition
 * polled against a local server until it holds (CEL over status and body), its timeout, a wait
 * for a time already past, and a cancel while a timer holds the task. No runner is called for a
 * wait: the registry has a runner that fails every start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tracer } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry, type Clock, type PlanTask, type Runner } from '../core/index.ts';
import { createEngine, openAsyncStore, type AsyncStore } from '../engine/index.ts';
import { loadBuiltinCatalog, sendHttpRequest } from '../tasks/index.ts';
import { planOf, shellTask, steppedClock, tempDir } from './helpers/engine-fixtures.ts';

const T0 = 1_800_000_000_000;
let server: Server;
let base: string;
let ready = 3; // the poll at which the server says ready
let polls = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    polls++;
    if (req.url === '/never') return res.writeHead(503).end('<html>not yet</html>');
    const ok = polls >= ready;
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ready: ok }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const refusing: Runner = {
  kind: 'local',
  posture: () => ({ privileged: false, hostNetwork: false }),
  start: () => Promise.reject(new Error('a wait must not reach a runner')),
};

async function waitTask(id: string, inputs: Record<string, unknown>): Promise<PlanTask> {
  const entry = (await loadBuiltinCatalog()).versions('wait')[0]!;
  return {
    ...shellTask(id, 'unused'),
    action: {
      type: 'catalog',
      ref: 'tasks/wait@1',
      name: 'wait',
      version: entry.version,
      digest: entry.digest,
    },
    with: inputs as PlanTask['with'],
    outputs: ['waitedMs', 'status', 'polls'],
  };
}

async function engineWith(clock: Clock, tracer?: Tracer) {
  const dataDir = tempDir('maestro-wait-');
  const store: AsyncStore = await openAsyncStore({ dataDir });
  const engine = createEngine({
    policy: policyOff('wait test: mechanics, not policy'),
    store,
    dataDir,
    catalog: await loadBuiltinCatalog(),
    runners: new RunnerRegistry().register(refusing),
    clock,
    // Leases that outlast the test's jumps in time: renewals are not what is tested here.
    leaseMs: 86_400_000,
    httpProbe: (request, env) => sendHttpRequest(request, env, () => undefined),
    ...(tracer ? { tracer } : {}),
  });
  return { engine, store };
}

describe('tasks/wait, an engine primitive', () => {
  it('polls an HTTP condition on the injected clock until CEL over status and body holds', async () => {
    polls = 0;
    ready = 3;
    const clock = steppedClock(T0);
    const { engine, store } = await engineWith(clock);
    const task = await waitTask('up', {
      url: `${base}/health`,
      condition: 'status == 200 && body.ready',
      interval: '30s',
    });
    const runId = await engine.submit(planOf([task]), { trust: 'trusted' });
    const run = await clock.drive(engine.execute(runId));
    expect(run.status).toBe('succeeded');
    const [attempt] = await store.listAttempts(runId, 'up');
    expect(attempt!.outputs).toEqual({ waitedMs: '60000', status: '200', polls: '3' });
    expect(clock.waits.filter((w) => w === 30_000)).toHaveLength(2);
    const logs = (await store.listLogs(runId, 'up')).map((l) => l.text);
    expect(logs.filter((l) => l.startsWith('condition false (status 503)'))).toHaveLength(2);
    await store.close();
  });

  it('fails with wait_timeout when the condition never holds in its timeout; a non-JSON body is polled on', async () => {
    const clock = steppedClock(T0);
    const { engine, store } = await engineWith(clock);
    const task = await waitTask('up', {
      url: `${base}/never`,
      condition: 'body.ready',
      interval: '1m',
      timeout: '5m',
    });
    const runId = await engine.submit(planOf([task]), { trust: 'trusted' });
    expect((await clock.drive(engine.execute(runId))).status).toBe('failed');
    const [attempt] = await store.listAttempts(runId, 'up');
    expect(attempt).toMatchObject({ outcome: 'failed', reason: 'wait_timeout' });
    expect(attempt!.message).toContain('did not hold within 300000 ms');
    await store.close();
  });

  it('a time already past sets no timer; for and until together wait for the later', async () => {
    const clock = steppedClock(T0);
    const { engine, store } = await engineWith(clock);
    const past = await waitTask('past', { until: new Date(T0 - 1000).toISOString() });
    const later = await waitTask('later', { for: '10m', until: new Date(T0 + 3_600_000).toISOString() });
    const runId = await engine.submit(planOf([past, { ...later, needs: ['past'] }]), { trust: 'trusted' });
    expect((await clock.drive(engine.execute(runId))).status).toBe('succeeded');
    const reasons = (await store.listTransitions(runId, 'past')).map((t) => t.reason);
    expect(reasons).not.toContain('waiting_until');
    const held = (await store.listTransitions(runId, 'later')).find((t) => t.reason === 'waiting_until')!;
    expect(held.detail).toContain(new Date(T0 + 3_600_000).toISOString());
    expect((await store.listAttempts(runId, 'later'))[0]!.startedAt).toBe(T0 + 3_600_000);
    await store.close();
  });

  it('a wait attempt’s maestro.attempt span says a durable timer held it: how long, until when', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const clock = steppedClock(T0);
    const { engine, store } = await engineWith(clock, provider.getTracer('test'));
    const timer = await waitTask('pause', { for: '10m' });
    const now = await waitTask('now', { until: new Date(T0 - 1000).toISOString() });
    const probe = await waitTask('probe', { url: `${base}/health`, interval: '1s' });
    const plan = planOf([timer, { ...now, needs: ['pause'] }, { ...probe, needs: ['now'] }]);
    const runId = await engine.submit(plan, { trust: 'trusted' });
    expect((await clock.drive(engine.execute(runId))).status).toBe('succeeded');
    const attempts = exporter.getFinishedSpans().filter((s) => s.name === 'maestro.attempt');
    const of = (id: string) =>
      attempts.find((s) => s.attributes['cicd.pipeline.task.name'] === id)!.attributes;
    expect(of('pause')).toMatchObject({
      'cicd.pipeline.task.run.result': 'success',
      'maestro.wait.durable_timer': true,
      'maestro.wait.timer_ms': 600_000,
      'maestro.wait.until': new Date(T0 + 600_000).toISOString(),
      'maestro.wait.condition': 'none',
    });
    // A time already past stores no timer; an HTTP condition is polled after none.
    expect(of('now')).toMatchObject({ 'maestro.wait.durable_timer': false, 'maestro.wait.timer_ms': 0 });
    expect(of('now')['maestro.wait.until']).toBeUndefined();
    expect(of('probe')).toMatchObject({
      'maestro.wait.durable_timer': false,
      'maestro.wait.condition': 'http',
    });
    await store.close();
  });

  it('a cancel while the timer holds the task cancels it before anything starts', async () => {
    // A clock whose sleeps never end by themselves: the timer holds until the cancel.
    const clock: Clock = {
      now: () => T0,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    };
    const { engine, store } = await engineWith(clock);
    const runId = await engine.submit(planOf([await waitTask('pause', { for: '6h' })]), { trust: 'trusted' });
    const done = engine.execute(runId);
    for (let i = 0; i < 400 && (await store.getTask(runId, 'pause')).reason !== 'waiting_until'; i++)
      await new Promise((r) => setTimeout(r, 10));
    await engine.cancel(runId, { by: 'tester' });
    const run = await done;
    expect(run.status).toBe('cancelled');
    expect((await store.getTask(runId, 'pause')).state).toBe('cancelled');
    expect(await store.listAttempts(runId, 'pause')).toEqual([]);
    await store.close();
  });

  it('an untrusted run gets no HTTP condition: the engine host does not poll for it (fail closed)', async () => {
    polls = 0;
    const clock = steppedClock(T0);
    const { engine, store } = await engineWith(clock);
    const task = await waitTask('probe', { url: `${base}/health`, interval: '1s', timeout: '5s' });
    const runId = await engine.submit(planOf([task]), { trust: 'untrusted' });
    expect((await clock.drive(engine.execute(runId))).status).toBe('failed');
    expect(polls).toBe(0);
    const [attempt] = await store.listAttempts(runId, 'probe');
    expect(attempt!.message).toContain('untrusted run does not have');
    await store.close();
  });
});

describe('tasks/wait and the budget guard', () => {
  it('prices a wait at zero: a six-hour wait on an xlarge class passes a budget of one cent and is stored free', async () => {
    const clock = steppedClock(T0);
    const { engine, store } = await engineWith(clock);
    // At compute prices this would be 6 h × 0.3950 USD/h (xlarge, default table): 2.37 USD.
    const pause = {
      ...(await waitTask('pause', { for: '6h' })),
      resources: 'xlarge',
      timeoutMs: 7 * 3_600_000,
    };
    const plan = planOf([pause], { budget: { limit: 0.01, currency: 'USD' } });
    const runId = await engine.submit(plan, { trust: 'trusted' });
    const run = await clock.drive(engine.execute(runId));
    expect(run.status).toBe('succeeded');
    const [attempt] = await store.listAttempts(runId, 'pause');
    expect(attempt).toMatchObject({ pricePerHour: 0, estimatedCost: 0 });
    const [row] = await store.usage({
      since: 0,
      until: T0 + 86_400_000,
      now: T0 + 86_400_000,
      groupBy: 'task',
    });
    expect(row).toMatchObject({ taskId: 'pause', actualCost: 0, estimatedCost: 0 });
    await store.close();
  });
});
