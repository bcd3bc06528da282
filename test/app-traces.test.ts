/**
 * The App traces a run end to end, read back from a real OpenTelemetry Collector
 * (test/setup/otel-collector.ts): a signed push delivery to the real App (the GitHub stand-in
 * behind it) is one trace: `maestro.webhook.delivery` → `maestro.compile` and `maestro.dispatch`
 * → `maestro.run` → a `maestro.policy.decision` and a `maestro.attempt` per task, with the CI/CD
 * conventions' attributes; the run's check run names that trace id.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeChecked, startHarness, type Harness } from './github-standin/app-harness.ts';
import { waitFor } from './helpers/wait-for.ts';
import { attr, startCollector, type Collector, type StoredSpan } from './setup/otel-collector.ts';

let collector: Collector;
let h: Harness;

beforeAll(async () => {
  collector = await startCollector();
  // The OTLP exporter reads the standard variables from the process (vitest runs each test file
  // in a process of its own); the runtime's configuration turns the export on from the same one.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  h = await startHarness({
    runUpdateIntervalMs: 100,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
  });
}, 90_000);

afterAll(async () => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (h) await closeChecked(h);
  await collector?.stop();
});

const manifest = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: traced
  namespace: demo
spec:
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
    - id: build
      run: echo built
    - id: test
      needs: [build]
      run: echo tested
`;

const childOf = (spans: StoredSpan[], parent: StoredSpan, name: string) =>
  spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name);

describe('the App traces a run', () => {
  it('one trace from the push delivery through compile, dispatch, the run, policy decisions and attempts', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { '.maestro/workflows/traced.yaml': manifest },
    });
    const delivery = randomUUID();
    expect(
      await h.deliver(
        'push',
        h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
        delivery,
      ),
    ).toBe(202);
    await h.idle();
    const [check] = h.standin.checkRunsNamed('maestro / run demo/traced', sha);
    expect(check!.conclusion).toBe('success');
    // The check run names the run's trace.
    const traceId = /- trace id: `([0-9a-f]{32})`/.exec(check!.output.summary ?? '')?.[1];
    expect(traceId).toBeDefined();

    const inTrace = () => collector.spans().filter((s) => s.traceId === traceId);
    await waitFor(
      'the delivery, compile, dispatch, run, policy and attempt spans',
      () => {
        const names = new Set(inTrace().map((s) => s.name));
        const all = [
          'maestro.webhook.delivery',
          'maestro.compile',
          'maestro.dispatch',
          'maestro.run',
          'maestro.policy.decision',
          'maestro.attempt',
        ];
        return all.every((n) => names.has(n)) &&
          inTrace().filter((s) => s.name === 'maestro.attempt').length === 2
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, explain: () => JSON.stringify(collector.spans().map((s) => [s.name, s.traceId])) },
    );
    const spans = inTrace();
    const root = spans.find((s) => s.name === 'maestro.webhook.delivery')!;
    expect(root.parentSpanId ?? '').toBe('');
    expect(attr(root.attributes, 'github.delivery')).toBe(delivery);
    expect(attr(root.attributes, 'github.event')).toBe('push');
    expect(attr(root.resource, 'service.name')).toBe('summit-maestro');
    const [compile] = childOf(spans, root, 'maestro.compile');
    expect(attr(compile!.attributes, 'vcs.ref.head.revision')).toBe(sha);
    const [dispatch] = childOf(spans, root, 'maestro.dispatch');
    expect(attr(dispatch!.attributes, 'cicd.pipeline.name')).toBe('traced');
    const runId = attr(dispatch!.attributes, 'cicd.pipeline.run.id');
    expect(runId).toMatch(/^r-/);
    const [run] = childOf(spans, dispatch!, 'maestro.run');
    expect(attr(run!.attributes, 'cicd.pipeline.run.id')).toBe(runId);
    const policies = childOf(spans, run!, 'maestro.policy.decision');
    expect(policies.map((p) => attr(p.attributes, 'cicd.pipeline.task.name')).sort()).toEqual([
      'build',
      'test',
    ]);
    expect(policies.every((p) => attr(p.attributes, 'maestro.policy.outcome') === 'allow')).toBe(true);
    expect(policies.every((p) => /.+/.test(attr(p.attributes, 'maestro.policy.decision_id') ?? ''))).toBe(
      true,
    );
    const attempts = childOf(spans, run!, 'maestro.attempt');
    expect(attempts.map((a) => attr(a.attributes, 'cicd.pipeline.task.name')).sort()).toEqual([
      'build',
      'test',
    ]);
    for (const a of attempts) {
      expect(attr(a.attributes, 'cicd.pipeline.task.run.result')).toBe('success');
      expect(attr(a.attributes, 'cicd.pipeline.task.run.id')).toMatch(/.+/);
    }
  });
});
