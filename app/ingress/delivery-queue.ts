import type { DeliveryStore, StoredDelivery } from './delivery-store.ts';

export type DeliveryHandler = (delivery: StoredDelivery, payload: unknown) => Promise<void>;

export interface DeliveryQueueOptions {
  store: Pick<DeliveryStore, 'markDelivery' | 'renewClaims' | 'claimPending' | 'serialised'>;
  handle: DeliveryHandler;
  onError: (delivery: StoredDelivery, error: unknown) => void;
  /** A store call of the claims' round failed (logged; the next round tries again). */
  onStoreError?: (error: unknown) => void;
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
  /** Ids enqueued and not yet finished: this process's claims, renewed while they wait or run. */
  readonly #queued = new Set<string>();
  #inFlight = 0;

  constructor(options: DeliveryQueueOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** `parsed`: the payload when the caller already parsed it (ingress), else it is parsed here. */
  enqueue(delivery: StoredDelivery, parsed?: unknown): void {
    if (this.#queued.has(delivery.id)) return; // claimed again by a round while it waits here
    let payload: unknown = parsed;
    try {
      if (payload === undefined) payload = JSON.parse(delivery.payload);
    } catch (error) {
      void this.#mark(delivery, 'failed', 'payload is not JSON');
      this.#options.onError(delivery, error);
      return;
    }
    const key = serialisationKey(payload);
    this.#queued.add(delivery.id);
    this.#inFlight += 1;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#run(delivery, payload, key));
    this.#chains.set(key, next);
    void next.finally(() => {
      this.#queued.delete(delivery.id);
      this.#inFlight -= 1;
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** Resolves when everything enqueued so far has been processed (tests and shutdown). */
  async drain(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  /**
   * One round of claims, every `claimMs / 3`: renews this process's claims on what it holds, then
   * takes every pending delivery whose claim ran out (its claimer, another replica on the same
   * database or a previous life of this one, stopped) and enqueues it. Returns a stop function.
   */
  keepClaims(claimMs: number, now: () => number): () => void {
    const round = async () => {
      try {
        await this.#options.store.renewClaims([...this.#queued], now() + claimMs);
        for (const delivery of await this.#options.store.claimPending(now(), now() + claimMs))
          this.enqueue(delivery);
      } catch (error) {
        this.#options.onStoreError?.(error);
      }
    };
    const timer = setInterval(() => void round(), Math.max(1, Math.floor(claimMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  async #run(delivery: StoredDelivery, payload: unknown, key: string): Promise<void> {
    try {
      // In order here by the chain; across replicas on one database by the store's lock.
      await this.#options.store.serialised(key, () => this.#options.handle(delivery, payload));
      await this.#mark(delivery, 'done');
    } catch (error) {
      await this.#mark(delivery, 'failed', (error as Error).message ?? String(error));
      this.#options.onError(delivery, error);
    }
  }

  /** A mark that fails (the database away) leaves the delivery pending: it is processed again. */
  async #mark(delivery: StoredDelivery, state: 'done' | 'failed', error?: string): Promise<void> {
    try {
      await this.#options.store.markDelivery(delivery.id, state, error);
    } catch (failure) {
      this.#options.onError(delivery, failure);
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
