/**
 * Maestro's control-plane metrics, beside the pipeline metrics (pipeline-metrics.ts): how long a
 * scheduling decision (a worker's claim of the next run), a policy decision and a webhook's
 * acknowledgement take, and the circuit breakers' state. Every label is a closed set (outcome,
 * state); nothing names a run, a target, an image or a delivery, so no client and no manifest
 * can add series (docs/observability.md, "Cardinality").
 */
import type { Registry } from 'prom-client';
import type { TelemetryBus } from '../core/index.ts';
import type { Worker } from './worker.ts';

const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ControlPlaneMetrics {
  /** One webhook delivery answered with `status` after `seconds`. */
  webhookAck(seconds: number, status: number): void;
  close(): void;
}

/** A webhook answer's outcome: 2xx accepted, 4xx rejected (bad signature, body), anything else an error. */
export function webhookOutcome(status: number): 'accepted' | 'rejected' | 'error' {
  if (status >= 200 && status < 300) return 'accepted';
  return status >= 400 && status < 500 ? 'rejected' : 'error';
}

export async function startControlPlaneMetrics(options: {
  registry: Registry;
  telemetry: TelemetryBus;
  worker?: Worker;
}): Promise<ControlPlaneMetrics> {
  const client = await import('prom-client');
  const registers = [options.registry];
  const scheduling = new client.Histogram({
    name: 'maestro_scheduling_decision_duration_seconds',
    help: "A worker's scheduling decision (claiming the next run that needs an executor), by outcome, in seconds",
    labelNames: ['maestro_scheduling_outcome'],
    buckets: FAST_BUCKETS,
    registers,
  });
  const policy = new client.Histogram({
    name: 'maestro_policy_decision_duration_seconds',
    help: 'A policy decision before a task attempt, by outcome (allow, deny, deny_unavailable, error), in seconds',
    labelNames: ['maestro_policy_outcome'],
    buckets: FAST_BUCKETS,
    registers,
  });
  const webhook = new client.Histogram({
    name: 'maestro_webhook_ack_duration_seconds',
    help: 'From a webhook delivery received to its answer, by outcome (accepted, rejected, error), in seconds',
    labelNames: ['maestro_webhook_outcome'],
    buckets: FAST_BUCKETS,
    registers,
  });
  const breakerOpen = new client.Gauge({
    name: 'maestro_circuit_breaker_open',
    help: "Circuits (runner, image or catalog task targets) of this process's engine open or half-open now",
    registers,
  });
  const breakerChanges = new client.Counter({
    name: 'maestro_circuit_breaker_transitions_total',
    help: 'Circuit breaker state changes, by the state entered (open, closed)',
    labelNames: ['maestro_breaker_state'],
    registers,
  });
  breakerOpen.set(0);
  // Price-aware placement (ADR-051): savings against on-demand per namespace, attempts by flavor.
  const savings = new client.Counter({
    name: 'maestro_placement_savings_total',
    help: 'What placed attempts saved against the on-demand price when their task became ready, by namespace and currency (price table units)',
    labelNames: ['maestro_namespace', 'maestro_currency'],
    registers,
  });
  const placed = new client.Counter({
    name: 'maestro_placement_attempts_total',
    help: 'Attempts of deferrable tasks by flavor and result (`lost`: spot capacity refused or evicted, re-attempted on on-demand)',
    labelNames: ['maestro_flavor', 'maestro_placement_result'],
    registers,
  });
  // What attempts cost (the receipts' `cost.actual`), by namespace: the cost per namespace panel.
  const cost = new client.Counter({
    name: 'maestro_task_cost_total',
    help: "What task attempts cost (price per hour when each started times its measured duration), by namespace and the price table's currency",
    labelNames: ['maestro_namespace', 'maestro_currency'],
    registers,
  });
  const offTelemetry = options.telemetry.subscribe((signal) => {
    if (signal.kind === 'cost')
      cost.inc(
        { maestro_namespace: signal.namespace, maestro_currency: signal.currency },
        Math.max(0, signal.amount),
      );
    else if (signal.kind === 'policy_decision')
      policy.observe({ maestro_policy_outcome: signal.outcome }, signal.seconds);
    else if (signal.kind === 'placement') {
      placed.inc({ maestro_flavor: signal.flavor, maestro_placement_result: signal.lost ? 'lost' : 'ended' });
      savings.inc(
        { maestro_namespace: signal.namespace, maestro_currency: signal.currency },
        Math.max(0, signal.savings),
      );
    } else {
      breakerChanges.inc({ maestro_breaker_state: signal.state });
      if (signal.state === 'open') breakerOpen.inc();
      else breakerOpen.dec();
    }
  });
  const offClaims = options.worker?.onClaim((seconds, outcome) =>
    scheduling.observe({ maestro_scheduling_outcome: outcome }, seconds),
  );
  return {
    webhookAck: (seconds, status) =>
      webhook.observe({ maestro_webhook_outcome: webhookOutcome(status) }, seconds),
    close: () => {
      offTelemetry();
      offClaims?.();
    },
  };
}
