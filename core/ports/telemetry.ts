/**
 * The telemetry port: measurements taken below the surfaces (the policy gate, the engine's circuit
 * breaker) that a surface turns into metrics. Signals carry closed sets only (an outcome, a state),
 * never a run id, an image or a target: whoever turns them into labels cannot grow a series per
 * run (docs/observability.md, "Cardinality").
 */
export type TelemetrySignal =
  | {
      kind: 'policy_decision';
      seconds: number;
      /** `deny_unavailable`: the gate could not decide and failed closed; `error`: it threw. */
      outcome: 'allow' | 'deny' | 'deny_unavailable' | 'error';
    }
  | { kind: 'breaker'; state: 'open' | 'closed' }
  /**
   * A placed attempt ended (ADR-051): its flavor, whether it was spot lost (refused, evicted), and
   * what it saved against on-demand when it became ready. The namespace is the operator's closed
   * set of namespaces, not a run's: the savings are reported per namespace.
   */
  | {
      kind: 'placement';
      namespace: string;
      flavor: string;
      lost: boolean;
      savings: number;
      currency: string;
    }
  /**
   * A task attempt's result was stored: what it cost (its price per hour when it started times its
   * measured duration, the receipt's `cost.actual`), for the cost per namespace. The namespace, as
   * for placement, is the run's; no run, task or attempt id.
   */
  | { kind: 'cost'; namespace: string; currency: string; amount: number };

export interface TelemetrySink {
  emit(signal: TelemetrySignal): void;
}

/** One per runtime: the runtime's parts emit, the server's metrics listen. */
export class TelemetryBus implements TelemetrySink {
  readonly #listeners = new Set<(signal: TelemetrySignal) => void>();

  emit(signal: TelemetrySignal): void {
    // A listener's fault must never reach the code being measured.
    for (const listener of this.#listeners)
      try {
        listener(signal);
      } catch {
        /* metrics are best effort */
      }
  }

  subscribe(listener: (signal: TelemetrySignal) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
