/**
 * A scheduled run is one trace, read back from a real OpenTelemetry Collector
 * (test/setup/otel-collector.ts), as a webhook delivery's or an API call's run is: the App fires
 * a `triggers.schedule` slot (injected clock, the GitHub stand-in behind it) under a root span
 * `maestro.schedule.fire`, the dispatch is its child, and the run (`maestro.run`, its attempts)
 * continues it; the fire span links to the scheduler pass (`schedules tick`) that fired it. Before
 * this, the run's spans had no parent: the run started a trace of its own that named no schedule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppRuntime, type AppRuntime } from '../app/index.ts';
import { systemClock, type Clock } from '../core/index.ts';
import {
  harnessRuntimeOptions,
  INSTALLATION_ID,
  OWNER,
  REPO,
  startStandIn,
  stopStandIn,
  type StandInSetup,
} from './github-standin/app-harness.ts';
import { waitFor } from './helpers/wait-for.ts';
import { attr, startCollector, type Collector, type StoredSpan } from './setup/otel-collector.ts';

const T0 = Date.parse('2026-03-01T00:30:00Z');
const nightly = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: nightly
  namespace: demo
spec:
  triggers:
    schedule: { cron: "0 * * * *" }
  defaults:
    runner: local
  tasks:
    - id: build
      run: echo built
`;

let collector: Collector;
let standIn: StandInSetup;
let app: AppRuntime;
let now = T0;
const dataDir = mkdtempSync(join(tmpdir(), 'maestro-schedule-traces-'));
const clock: Clock = { now: () => now, sleep: (ms, signal) => systemClock.sleep(ms, signal) };

beforeAll(async () => {
  collector = await startCollector();
  // The OTLP exporter reads the standard variables from the process, as in test/app-traces.test.ts.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  standIn = await startStandIn();
  standIn.standin.installations.set(INSTALLATION_ID, [`${OWNER}/${REPO}`]);
  standIn.repo.commit({
    branch: 'main',
    login: 'carol',
    files: { '.maestro/workflows/nightly.yaml': nightly },
  });
  app = await openAppRuntime({
    ...harnessRuntimeOptions({ ...standIn, dataDir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } }),
    clock,
    schedules: { start: false, leaseMs: 60_000, refreshMs: 0 },
  });
}, 90_000);

afterAll(async () => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  await app?.close();
  if (standIn) await stopStandIn(standIn);
  await collector?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const childOf = (spans: StoredSpan[], parent: StoredSpan, name: string) =>
  spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name);

describe('a scheduled run', () => {
  it('is one trace: maestro.schedule.fire → maestro.dispatch → maestro.run → maestro.attempt, linked to its tick', async () => {
    await app.app.schedules!.tick();
    now = Date.parse('2026-03-01T01:00:05Z');
    const report = await app.app.schedules!.tick();
    expect(report.fired).toHaveLength(1);
    const runId = report.fired[0]!.runId;
    await app.app.idle();
    const run = await app.engines.trusted.store.getRun(runId);
    expect(run.status).toBe('succeeded');
    // The run stores the trace it continues, as an API or webhook run does.
    const traceId = run.traceParent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const inTrace = () => collector.spans().filter((s) => s.traceId === traceId);
    await waitFor(
      'the fire, dispatch, run and attempt spans',
      () => {
        const names = new Set(inTrace().map((s) => s.name));
        const all = [
          'maestro.schedule.fire',
          'maestro.compile',
          'maestro.dispatch',
          'maestro.run',
          'maestro.attempt',
        ];
        return all.every((n) => names.has(n)) ? true : undefined;
      },
      { timeoutMs: 30_000, explain: () => JSON.stringify(collector.spans().map((s) => [s.name, s.traceId])) },
    );
    const spans = inTrace();
    const root = spans.find((s) => s.name === 'maestro.schedule.fire')!;
    expect(root.parentSpanId ?? '').toBe('');
    expect(attr(root.attributes, 'maestro.schedule.workflow')).toBe('demo/nightly');
    expect(attr(root.attributes, 'cicd.pipeline.run.id')).toBe(runId);
    expect(attr(root.attributes, 'vcs.repository.name')).toBe(`${OWNER}/${REPO}`);
    expect(attr(root.attributes, 'maestro.schedule.slot')).toBe('2026-03-01T01:00:00.000Z');
    // The default branch's head, read (and compiled) when the slot fires.
    expect(childOf(spans, root, 'maestro.compile').length).toBeGreaterThanOrEqual(1);
    const [dispatch] = childOf(spans, root, 'maestro.dispatch');
    expect(attr(dispatch!.attributes, 'cicd.pipeline.run.id')).toBe(runId);
    const [runSpan] = childOf(spans, dispatch!, 'maestro.run');
    expect(attr(runSpan!.attributes, 'cicd.pipeline.run.id')).toBe(runId);
    const [attempt] = childOf(spans, runSpan!, 'maestro.attempt');
    expect(attr(attempt!.attributes, 'cicd.pipeline.task.name')).toBe('build');
    // The scheduler pass that fired it is a trace of its own (it may fire many slots): a link.
    await waitFor('the schedules tick span', () =>
      collector
        .spans()
        .find((s) => s.name === 'schedules tick' && root.links?.some((l) => l.spanId === s.spanId)),
    );
    const tick = collector.spans().find((s) => root.links?.some((l) => l.spanId === s.spanId))!;
    expect(tick.traceId).not.toBe(traceId);
    expect(attr(tick.attributes, 'maestro.schedules.fired')).toBe('1');
  }, 120_000);
});
