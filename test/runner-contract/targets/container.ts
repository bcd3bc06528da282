/**
 * The container runner on real Podman (Docker-compatible API), built through the factory map
 * from a runners-file section, running the locally imported busybox image.
 */
import Docker from 'dockerode';
import { RUNNER_FACTORIES } from '../../../runners/index.ts';
import type { AttemptRef, Runner } from '../../../core/index.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from '../../setup/podman-service.ts';
import { KWOK_PEM } from '../../setup/k8s-cluster.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import type { ContractTarget } from '../target.ts';
import { requestMaker, shellOf } from './shared.ts';

export function containerTarget(): ContractTarget {
  const requests = requestMaker('ctr');
  let service: PodmanService | undefined;
  let docker: Docker;
  let section: Record<string, unknown> = {};
  const containersOf = (ref: AttemptRef) =>
    docker.listContainers({ all: true, filters: { label: [`maestro.dev/attempt-id=${ref.attemptId}`] } });
  return {
    kind: 'container',
    executes: true,
    sdkTask: 'shell',
    messagesFile: true,
    afterEngineKill: 'reattached',
    pem: KWOK_PEM,
    async setup() {
      service = await ensurePodmanService();
      docker = new Docker({ socketPath: service.socketPath });
      section = {
        socketPath: service.socketPath,
        defaultImage: TEST_IMAGE,
        stopGraceMs: 2000,
        resourceClasses: { small: { memoryBytes: 64 * 1024 * 1024, pids: 64 } },
      };
    },
    async teardown() {
      await service?.stop();
      requests.cleanup();
    },
    section: () => section,
    runner(): Runner {
      return RUNNER_FACTORIES.container!.create(section, {
        baseEnv: {},
        hiddenPaths: [],
        localSandbox: 'bwrap',
      });
    },
    request: (program, overrides = {}) => requests.make(shellOf(program), {}, overrides),
    gone: (ref) =>
      waitFor(
        `no container of ${ref.attemptId}`,
        async () => ((await containersOf(ref)).length === 0 ? true : undefined),
        { timeoutMs: 30_000 },
      ).then(() => undefined),
    alive: async (ref) => (await containersOf(ref)).length > 0,
  };
}
