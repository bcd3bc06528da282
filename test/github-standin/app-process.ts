/**
 * The real app in its own process, for restart tests: the test kills it with SIGKILL mid-run
 * and starts a new app on the same data dir. Options come as JSON in MAESTRO_TEST_APP (see
 * harnessRuntimeOptions); prints `listening <port>` once the webhook endpoint answers.
 */
import { openAppRuntime } from '../../app/index.ts';
import { harnessRuntimeOptions } from './app-harness.ts';

const setup = JSON.parse(process.env.MAESTRO_TEST_APP ?? '{}') as Parameters<typeof harnessRuntimeOptions>[0];
const runtime = await openAppRuntime(harnessRuntimeOptions(setup));
const port = await runtime.app.listen(0, '127.0.0.1');
process.stdout.write(`listening ${port}\n`);
