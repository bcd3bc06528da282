/**
 * The real app in its own process, for restart tests: the test kills it with SIGKILL mid-run
 * and starts a new app on the same data dir. Options come as JSON in MAESTRO_TEST_APP (see
 * harnessRuntimeOptions); prints `listening <port>` once the webhook endpoint answers.
 */
import { openAppRuntime } from '../../app/index.ts';
import { harnessRuntimeOptions } from './app-harness.ts';

const setup = JSON.parse(process.env.MAESTRO_TEST_APP ?? '{}') as Parameters<typeof harnessRuntimeOptions>[0];
// MAESTRO_TEST_CRASH_AT=recorded|submitted: the process kills itself (SIGKILL, no cleanup) right
// after that dispatch step, as a crash would.
const crashAt = process.env.MAESTRO_TEST_CRASH_AT;
const runtime = await openAppRuntime({
  ...harnessRuntimeOptions(setup),
  ...(crashAt
    ? { onDispatchStep: (step) => void (step === crashAt && process.kill(process.pid, 'SIGKILL')) }
    : {}),
});
const port = await runtime.app.listen(0, '127.0.0.1');
process.stdout.write(`listening ${port}\n`);
