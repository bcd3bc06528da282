/**
 * Price-aware placement through the engine (ADR-051), on an injected clock and price table: a
 * deferrable task is held by a durable timer until the cheapest window within its deadline and
 * started there on spot; its savings against on-demand are signalled for its namespace; a spot
 * attempt evicted is re-attempted on on-demand without using its retry limit. The runner is a
 * stand-in that records each request's flavor (the Kubernetes Job carries it:
 * test/kubernetes-flavors.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  AttemptOutcome,
  policyOff,
  RunnerRegistry,
  TelemetryBus,
  type RunnerStartRequest,
  type Runner,
  type TelemetrySignal,
  type Clock,
} from '../core/index.ts';
import { createEngine, openAsyncStore, parsePriceTable } from '../engine/index.ts';
import { planOf, shellTask, steppedClock, tempDir } from './helpers/engine-fixtures.ts';

const EVENING = Date.UTC(2026, 11, 1, 20, 0); // two hours before off-peak
const HOUR = 3_600_000;
const prices = parsePriceTable(
  {
    perHour: { kubernetes: { small: 0.1 } },
    placement: {
      flavors: { kubernetes: { spot: 0.3 } },
      windows: [{ from: '22:00', to: '06:00', factor: 0.5 }],
    },
  },
  'prices.yaml',
);

function standIn(clock: Clock, evict: (r: RunnerStartRequest) => boolean) {
  const started: { flavor: string | undefined; at: number }[] = [];
  const runner: Runner = {
    kind: 'kubernetes',
    posture: () => ({ privileged: false, hostNetwork: false }),
    async start(request) {
      const at = clock.now();
      started.push({ flavor: request.flavor, at });
      const lost = evict(request);
      const result = {
        outcome: lost ? AttemptOutcome.failed : AttemptOutcome.succeeded,
        exitCode: lost ? null : 0,
        retryable: false,
        ...(lost ? { reason: 'Evicted', message: 'the node was reclaimed' } : {}),
        outputs: {},
        startedAt: at,
        finishedAt: at,
      };
      const wait = async () => {
        await clock.sleep(30 * 60_000);
        return { ...result, finishedAt: clock.now() };
      };
      return { logs: async function* () {}, wait, cancel: async () => undefined };
    },
  };
  return { runner, started };
}

async function run(evict: (r: RunnerStartRequest) => boolean) {
  const clock = steppedClock(EVENING);
  const dataDir = tempDir('maestro-placement-');
  const store = await openAsyncStore({ dataDir });
  const telemetry = new TelemetryBus();
  const signals: TelemetrySignal[] = [];
  telemetry.subscribe((s) => signals.push(s));
  const { runner, started } = standIn(clock, evict);
  const engine = createEngine({
    policy: policyOff('placement test: mechanics, not policy'),
    store,
    dataDir,
    runners: new RunnerRegistry().register(runner),
    clock,
    prices,
    telemetry,
    leaseMs: 86_400_000,
  });
  const task = shellTask('reindex', 'true', {
    runner: 'kubernetes',
    timeoutMs: HOUR,
    placement: { deferrable: true, deadlineMs: 6 * HOUR },
  });
  const runId = await engine.submit(planOf([task]), { trust: 'trusted' });
  const done = await clock.drive(engine.execute(runId));
  const transitions = await store.listTransitions(runId, 'reindex');
  const attempts = await store.listAttempts(runId, 'reindex');
  const [usage] = await store.usage({
    since: 0,
    until: clock.now() + 1,
    now: clock.now(),
    groupBy: 'namespace',
  });
  await store.close();
  return { done, started, signals, transitions, attempts, usage };
}

describe('price-aware placement in the engine', () => {
  it('defers to the cheapest window within the deadline, runs on spot there, reports the savings', async () => {
    const { done, started, signals, transitions, attempts, usage } = await run(() => false);
    expect(done.status).toBe('succeeded');
    expect(started).toEqual([{ flavor: 'spot', at: EVENING + 2 * HOUR }]);
    // Stored and estimated at the flavor it ran on (was: on-demand's 0.10, stored before placing).
    expect(attempts[0]!.pricePerHour).toBeCloseTo(0.015, 9);
    expect(attempts[0]!.estimatedCost).toBeCloseTo(0.015, 9); // its 1 h timeout, no history
    const held = transitions.find((t) => t.reason === 'waiting_until')!;
    expect(held).toMatchObject({ to: 'ready', time: EVENING });
    expect(held.detail).toContain('2026-12-01T22:00:00.000Z (placement: spot at 0.01500 USD/h');
    // Half an hour at 0.015 instead of on-demand's 0.10 when it became ready.
    const placed = signals.filter((s) => s.kind === 'placement');
    expect(placed).toEqual([
      {
        kind: 'placement',
        namespace: 'test',
        flavor: 'spot',
        lost: false,
        savings: expect.closeTo(0.0425, 6),
        currency: 'USD',
      },
    ]);
    // The usage report sums the same savings from the stored attempt (its baseline is stored).
    expect(usage).toMatchObject({ namespace: 'test', savings: expect.closeTo(0.0425, 9) });
  });

  it('an evicted spot attempt is re-attempted on on-demand, outside the retry limit (0)', async () => {
    const { done, started, signals, transitions, attempts, usage } = await run((r) => r.flavor === 'spot');
    expect(done.status).toBe('succeeded');
    expect(started.map((s) => s.flavor)).toEqual(['spot', undefined]);
    expect(attempts.map((a) => a.reason)).toEqual(['spot_lost', null]);
    // Each attempt at its own flavor's price: spot, then on-demand in the off-peak window.
    expect(attempts.map((a) => a.pricePerHour)).toEqual([expect.closeTo(0.015, 9), expect.closeTo(0.05, 9)]);
    expect(attempts[0]!.message).toContain('Evicted');
    expect(transitions.map((t) => t.reason)).toContain('reattempt_scheduled');
    expect(
      signals.filter((s) => s.kind === 'placement').map((s) => s.kind === 'placement' && s.lost),
    ).toEqual([true, false]);
    // The report agrees with the metric: the lost spot attempt saved nothing, nor did the
    // on-demand re-attempt (ready again and run in the same window, at on-demand's price).
    const signalled = signals.reduce((sum, s) => sum + (s.kind === 'placement' ? s.savings : 0), 0);
    expect(signalled).toBe(0);
    expect(usage).toMatchObject({ attempts: 2, savings: 0 });
  });
});
