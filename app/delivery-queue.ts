import type { AppStore, StoredDelivery } from './app-store.ts';

export type DeliveryHandler = (delivery: StoredDelivery, payload: unknown) => Promise<void>;

export interface DeliveryQueueOptions {
  store: AppStore;
  handle: DeliveryHandler;
  onError: (delivery: StoredDelivery, error: unknown) => void;
}

/**
 * Processes stored deliveries after they were acknowledged. Deliveries for the same repository
 * run one after another (so two reviews on one pull request never race on its gate); different
 * repositories run concurrently. Handlers read current state from GitHub, so the order GitHub
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

  enqueue(delivery: StoredDelivery): void {
    let payload: unknown;
    try {
      payload = JSON.parse(delivery.payload);
    } catch (error) {
      this.#options.store.markDelivery(delivery.id, 'failed', 'payload is not JSON');
      this.#options.onError(delivery, error);
      return;
    }
    const key = repositoryKey(payload);
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

function repositoryKey(payload: unknown): string {
  const repo = (payload as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  return typeof repo === 'string' ? repo : '';
}
