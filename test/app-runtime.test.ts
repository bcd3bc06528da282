/**
 * The App reads the same runtime configuration as `maestro run` (runtime/): with DOCKER_HOST set
 * (no runners file), a pushed workflow's `runner: container` runs in a real Podman container.
 * Before runtime/, the App's engines had only the local runner, so the task failed with
 * "no runner named container (have: local)".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './github-standin/app-harness.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

let podman: PodmanService;
let h: Harness | undefined;
beforeAll(async () => {
  podman = await ensurePodmanService();
}, 60_000);
afterAll(async () => {
  await h?.close();
  await podman?.stop();
});

describe('the App on the one runtime', () => {
  it("runs a push's `runner: container` task in a container, as `maestro run` would", async () => {
    h = await startHarness({
      runUpdateIntervalMs: 100,
      env: { DOCKER_HOST: `unix://${podman.socketPath}`, MAESTRO_CONTAINER_IMAGE: TEST_IMAGE },
    });
    // The workflow is already on main (a new workflow using a container runner would wait for an
    // approval: the gate's default for head-only privileged work); this push changes a file.
    const base = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/boxed.yaml': `apiVersion: maestro/v1
kind: Workflow
metadata: { name: boxed, namespace: demo }
spec:
  triggers: { push: { branches: [main] } }
  defaults: { runner: container, retry: { limit: 0 } }
  tasks:
    - id: build
      run: echo "uid=$(id -u)" >> "$MAESTRO_OUTPUT"
      outputs: [uid]
`,
      },
    });
    const sha = h.repo.commit({ branch: 'main', login: 'carol', files: { 'README.md': 'change' } });
    await h.deliver(
      'push',
      h.pushPayload({
        ref: 'refs/heads/main',
        before: base,
        after: sha,
        pusher: 'carol',
        files: ['README.md'],
      }),
    );
    await h.idle();
    const [check] = h.standin.checkRunsNamed('maestro / run demo/boxed', sha);
    expect(check!.conclusion, check!.output.summary).toBe('success');
    const [run] = await h.runtime.engineStore.listRuns();
    expect((await h.runtime.engineStore.getRun(run!.id)).plan.tasks[0]!.runner).toBe('container');
    // Non-root, as the detected socket's safe defaults say.
    expect(await h.runtime.engineStore.taskOutputs(run!.id, 'build')).toEqual({ uid: '1000' });
    expect(await h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
    expect(h.standin.violations).toEqual([]);
  }, 120_000);
});
