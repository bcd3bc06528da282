/**
 * The serverless runner against the real Lambda Runtime Interface Emulator (test/setup/
 * lambda-emulator.ts) running a function that plays a Maestro task (lambda-function/bootstrap.mjs:
 * a `shell` command runs under /bin/sh with the task protocol's files). Its attempts are the
 * function's processes on this host; `gone` finds them by the env marker, as the local target does.
 * The emulator's own timeout (5 s) is what ends a function the runner stopped waiting for.
 */
import type { AttemptRef, Runner, RunnerStartRequest } from '../../../core/index.ts';
import { RUNNER_FACTORIES } from '../../../runners/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { KWOK_PEM } from '../../setup/k8s-cluster.ts';
import { startLambdaEmulator, type LambdaEmulator } from '../../setup/lambda-emulator.ts';
import type { ContractTarget } from '../target.ts';
import { MARKER, processesOf } from './local.ts';
import { requestMaker, shellOf } from './shared.ts';

export function serverlessTarget(): ContractTarget {
  const requests = requestMaker('fn');
  let emulator: LambdaEmulator | undefined;
  let section: Record<string, unknown> = {};
  return {
    kind: 'serverless',
    executes: true,
    artifactsInEvent: true,
    sdkTask: 'shell',
    messagesFile: true,
    afterEngineKill: 'runs-to-its-timeout',
    pem: KWOK_PEM,
    async setup() {
      emulator = await startLambdaEmulator({ timeoutSeconds: 5 });
      section = {
        endpoint: emulator.endpoint,
        function: 'function',
        credentialsFile: emulator.credentialsFile,
        // The emulator serves one invoke at a time.
        concurrency: 1,
      };
    },
    async teardown() {
      await emulator?.stop();
      requests.cleanup();
    },
    section: () => section,
    runner(): Runner {
      return RUNNER_FACTORIES.serverless!.create(section, {
        baseEnv: {},
        hiddenPaths: [],
        localSandbox: 'bwrap',
      });
    },
    request(program, overrides = {}) {
      // Trusted: a function always has the network, so the runner refuses untrusted attempts.
      const made = requests.make(shellOf(program), {}, { trust: 'trusted', ...overrides });
      made.env[MARKER] = made.attemptId;
      return made;
    },
    gone: (request: RunnerStartRequest) =>
      waitFor(
        `no process of ${request.attemptId}`,
        async () => (processesOf(request.attemptId).length === 0 ? true : undefined),
        { timeoutMs: 30_000, explain: () => emulator?.output() ?? '' },
      ).then(() => undefined),
    alive: async (ref: AttemptRef) => processesOf(ref.attemptId).length > 0,
  };
}
