/**
 * Wake-ups on PostgreSQL (AsyncStore.listenForRuns): the writes that make a run need an executor
 * (createRun of a queued run, a run transition to `queued`) send `pg_notify('maestro_runs', id)`
 * in their own statement, so the notification goes out when, and only if, the write commits; a
 * worker holds one dedicated connection with `LISTEN maestro_runs` and claims at once.
 *
 * Why a dedicated client and not the pool: a LISTEN belongs to its session, and a pooled client
 * is handed to other queries. Why best effort is enough: notifications sent while the listener is
 * reconnecting are lost (PostgreSQL queues them only for sessions listening at commit), so the
 * worker's poll stays (250 ms) and every reconnection is reported (`listening`), after which the
 * worker claims once to catch up. A notification is only a hint to claim: its payload is never
 * trusted (the claim reads the store), so a forged NOTIFY by another database user costs one
 * claim query.
 */
import type pg from 'pg';
import { loadedPg } from './load-pg.ts';

export const RUNS_CHANNEL = 'maestro_runs';

/** Reconnect delays after the listener lost its connection: 0.5 s doubling up to 15 s. */
const RETRY_MS = { first: 500, max: 15_000 };

export async function listenForRuns(
  config: pg.ClientConfig,
  wake: (runId: string) => void,
  listening: () => void,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let delay = RETRY_MS.first;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, RETRY_MS.max);
  };

  const connect = async (): Promise<void> => {
    const c = new (loadedPg().Client)({ ...config, application_name: 'maestro-wakeups' });
    // A lost connection (a restart, pg_terminate_backend) is an 'error' and/or an 'end': either
    // way a new connection is tried, and the worker's poll covers the gap.
    c.on('error', () => undefined);
    c.on('end', () => {
      if (client === c) client = undefined;
      retry();
    });
    c.on('notification', (n) => {
      if (n.channel === RUNS_CHANNEL) wake(n.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${RUNS_CHANNEL}`);
    } catch {
      await c.end().catch(() => undefined);
      return retry();
    }
    if (stopped) return void (await c.end().catch(() => undefined));
    client = c;
    delay = RETRY_MS.first;
    listening();
  };

  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await client?.end().catch(() => undefined);
  };
}
