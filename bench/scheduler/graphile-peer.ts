/**
 * The peer's worker process: graphile-worker's `run()` with one task that does nothing, on the
 * bench's PostgreSQL. Each job's start is printed as one JSON line on stdout
 * (`{"job","createdAt","startedAt"}`, epoch ms), read by graphile-target.ts.
 *   node bench/scheduler/graphile-peer.ts <connection string> <concurrency>
 */
import { Logger, run } from 'graphile-worker';

const [connectionString, concurrency = '10'] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();

// Its log (info and up, as its console logger's default) goes to stderr, so stdout carries only
// the start records; Maestro's server logs at info too.
const logger = new Logger(() => (level, message) => {
  if (level !== 'debug') process.stderr.write(`${level}: ${message}\n`);
});

const runner = await run({
  connectionString,
  concurrency: Number(concurrency),
  noHandleSignals: true,
  logger,
  taskList: {
    noop: async (_payload, helpers) => {
      const startedAt = now();
      process.stdout.write(
        `${JSON.stringify({ job: helpers.job.id, createdAt: helpers.job.created_at.getTime(), startedAt })}\n`,
      );
    },
  },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => void runner.stop().then(() => process.exit(0)));
await runner.promise;
