import type { DeliveryStore, StoredDelivery } from './delivery-store.ts';

export type DeliveryHandler = (delivery: StoredDelivery, payload: unknown) => Promise<void>;

export interface DeliveryQueueOptions {
  store: Pick<DeliveryStore, 'markDelivery'>;
  handle: DeliveryHandler;
  onError: (delivery: StoredDelivery, error: unknown) => void;
}

/**
 * Processes stored deliveries after they were acknowledged. Deliveries about the same pull
 * request, ref or run run one after another (so two reviews on one pull request never race on
 * its gate); unrelated ones run concurrently. Handlers read current state from GitHub, so the order GitHub
 * delivered in does not matter for correctness, only for how soon the final state appears.
 */
export class DeliveryQueue {
  readonly #options: DeliveryQueueOptions;
  readonly #chains = new Map<string, Promise<void>>();
  #inFlight = 0;

  constructor(options: DeliveryQueueOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** `parsed`: the payload when the caller already parsed it (ingress), else it is parsed here. */
  enqueue(delivery: StoredDelivery, parsed?: unknown): void {
    let payload: unknown = parsed;
    try {
      if (payload === undefined) payload = JSON.parse(delivery.payload);
    } catch (error) {
      this.#options.store.markDelivery(delivery.id, 'failed', 'payload is not JSON');
      this.#options.onError(delivery, error);
      return;
    }
    const key = serialisationKey(payload);
    this.#inFlight += 1;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#run(delivery, payload));
    this.#chains.set(key, next);
    void next.finally(() => {
      this.#inFlight -= 1;
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** Resolves when everything enqueued so far has been processed (tests and shutdown). */
  async drain(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  async #run(delivery: StoredDelivery, payload: unknown): Promise<void> {
    try {
      await this.#options.handle(delivery, payload);
      this.#options.store.markDelivery(delivery.id, 'done');
    } catch (error) {
      this.#options.store.markDelivery(delivery.id, 'failed', (error as Error).message ?? String(error));
      this.#options.onError(delivery, error);
    }
  }
}

interface KeyFields {
  repository?: { full_name?: unknown };
  pull_request?: { number?: unknown };
  issue?: { number?: unknown };
  ref?: unknown;
  check_run?: { external_id?: unknown };
}

/**
 * The serialisation key: deliveries about the same pull request (or issue), the same pushed ref,
 * or the same run's check run are processed in order; unrelated ones run concurrently.
 */
export function serialisationKey(payload: unknown): string {
  const p = (payload ?? {}) as KeyFields;
  const repo = typeof p.repository?.full_name === 'string' ? p.repository.full_name : '';
  const number = p.pull_request?.number ?? p.issue?.number;
  if (typeof number === 'number') return `${repo}#${number}`;
  if (typeof p.ref === 'string') return `${repo}@${p.ref}`;
  if (typeof p.check_run?.external_id === 'string') return `${repo}:${p.check_run.external_id}`;
  return repo;
}
