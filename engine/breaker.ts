/**
 * Circuit breaker per target (runner + image, or catalog task). After `threshold` consecutive
 * failures the circuit opens and attempts against that target fail fast until `coolDownMs` has
 * passed; then one attempt is let through (half-open) and its result closes or re-opens it.
 * State is per engine instance: a restarted engine starts with closed circuits, which is safe.
 */
import type { Clock, TelemetrySink } from '../core/index.ts';

export interface BreakerOptions {
  threshold: number;
  coolDownMs: number;
}

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #clock: Clock;
  readonly #failures = new Map<string, number>();
  readonly #openUntil = new Map<string, number>();

  readonly #telemetry: TelemetrySink | undefined;

  constructor(options: BreakerOptions, clock: Clock, telemetry?: TelemetrySink) {
    this.#options = options;
    this.#clock = clock;
    this.#telemetry = telemetry;
  }

  /** True when attempts against the target must fail fast now. */
  isOpen(target: string): boolean {
    const until = this.#openUntil.get(target);
    return until !== undefined && this.#clock.now() < until;
  }

  record(target: string, failed: boolean): void {
    const wasOpen = this.#openUntil.has(target);
    if (!failed) {
      this.#failures.delete(target);
      this.#openUntil.delete(target);
      if (wasOpen) this.#telemetry?.emit({ kind: 'breaker', state: 'closed' });
      return;
    }
    const count = (this.#failures.get(target) ?? 0) + 1;
    this.#failures.set(target, count);
    if (count >= this.#options.threshold) {
      this.#openUntil.set(target, this.#clock.now() + this.#options.coolDownMs);
      // Once per circuit: a half-open attempt that fails re-opens one already counted open.
      if (!wasOpen) this.#telemetry?.emit({ kind: 'breaker', state: 'open' });
    }
  }
}
