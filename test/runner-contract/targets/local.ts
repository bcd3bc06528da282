/**
 * The local runner as the runtime builds it (factory map, default sandbox: bubblewrap). Its
 * attempts are host processes; `gone` finds them by an env marker every descendant inherits
 * (read from /proc/<pid>/environ on the host, outside the sandbox's pid namespace).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { RUNNER_FACTORIES } from '../../../runners/index.ts';
import type { AttemptRef, Runner, RunnerStartRequest } from '../../../core/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import type { ContractTarget } from '../target.ts';
import { KWOK_PEM } from '../../setup/k8s-cluster.ts';
import { requestMaker, shellOf } from './shared.ts';

export const MARKER = 'MAESTRO_CONTRACT_ATTEMPT';

/** Host pids of live (non-zombie) processes carrying the attempt's marker in their environment. */
export function processesOf(attemptId: string): number[] {
  const needle = `${MARKER}=${attemptId}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!`${readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`.includes(needle)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export function localTarget(): ContractTarget {
  const requests = requestMaker('local');
  const runners: Runner[] = [];
  const section = {};
  return {
    kind: 'local',
    executes: true,
    sdkTask: 'node',
    messagesFile: true,
    afterEngineKill: 'dies-with-engine',
    pem: KWOK_PEM,
    setup: async () => {},
    teardown: async () => {
      for (const r of runners) await r.close?.();
      requests.cleanup();
    },
    section: () => section,
    runner() {
      const runner = RUNNER_FACTORIES.local!.create(section, {
        baseEnv: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
        hiddenPaths: [],
        localSandbox: 'bwrap',
      });
      runners.push(runner);
      return runner;
    },
    request(program, overrides = {}) {
      // Trusted: the sandbox keeps the network, so a task can reach the test's witness on 127.0.0.1.
      const made = requests.make(shellOf(program), {}, { trust: 'trusted', ...overrides });
      made.env[MARKER] = made.attemptId;
      return made;
    },
    gone: (request: RunnerStartRequest) =>
      waitFor(
        `no process of ${request.attemptId}`,
        async () => (processesOf(request.attemptId).length === 0 ? true : undefined),
        { timeoutMs: 30_000 },
      ).then(() => undefined),
    alive: async (ref: AttemptRef) => processesOf(ref.attemptId).length > 0,
  };
}
