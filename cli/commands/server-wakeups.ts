/**
 * The worker role's wake-ups, from the environment: MAESTRO_WAKEUPS=notify (default: claim at
 * once on the database's notifications where it has them, PostgreSQL's LISTEN/NOTIFY, and poll
 * as the fallback) or `poll` (poll only: behind a pooler in transaction mode, which cannot hold a
 * LISTEN); MAESTRO_WORKER_POLL_MS, the poll's interval (default 250).
 */
import { UsageError } from '../../core/index.ts';
import type { CliIo } from '../io.ts';

export function wakeupsFrom(io: CliIo): { notifications: boolean; pollMs?: number } {
  const wakeups = io.env.MAESTRO_WAKEUPS;
  if (wakeups !== undefined && wakeups !== '' && wakeups !== 'notify' && wakeups !== 'poll')
    throw new UsageError(
      `MAESTRO_WAKEUPS must be notify (the default: the database's notifications, and polling) or poll (polling only), got ${JSON.stringify(wakeups)}`,
    );
  const poll = io.env.MAESTRO_WORKER_POLL_MS;
  if (poll !== undefined && poll !== '' && (!/^\d{1,6}$/.test(poll) || Number(poll) < 10))
    throw new UsageError(
      `MAESTRO_WORKER_POLL_MS must be a whole number of milliseconds from 10 (how often an idle worker looks for runs; default 250), got ${JSON.stringify(poll)}`,
    );
  return {
    notifications: wakeups !== 'poll',
    ...(poll === undefined || poll === '' ? {} : { pollMs: Number(poll) }),
  };
}
