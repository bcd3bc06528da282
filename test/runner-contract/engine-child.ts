/**
 * A stand-in for the engine process, for the engine-kill case: builds one runner from the
 * factory map (as the runtime does), starts one attempt through the Runner port, prints
 * `running` once the task's first log line arrives, and waits to be SIGKILLed by the test.
 * Argument: JSON { kind, section, request }.
 */
import { RUNNER_FACTORIES } from '../../runners/index.ts';
import type { RunnerStartRequest } from '../../core/index.ts';

const { kind, section, request } = JSON.parse(process.argv[2] ?? '{}') as {
  kind: string;
  section: Record<string, unknown>;
  request: RunnerStartRequest;
};
const factory = RUNNER_FACTORIES[kind];
if (!factory) throw new Error(`no runner kind ${kind}`);
const runner = factory.create(section, {
  baseEnv: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
  hiddenPaths: [],
  localSandbox: 'bwrap',
});
const handle = await runner.start(request);
for await (const line of handle.logs()) {
  process.stdout.write(`log ${line.stream} ${line.text}\n`);
  process.stdout.write('running\n');
}
process.stdout.write(`ended ${JSON.stringify(await handle.wait())}\n`);
setInterval(() => undefined, 1 << 30);
