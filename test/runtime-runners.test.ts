/**
 * The runtime's runners, through `maestro run` on real Podman: the container runner is there
 * whenever a Docker Engine API socket is (here DOCKER_HOST, no runners file); a runner nobody
 * configured is refused before the run starts; and the runner's real configuration reaches the
 * policy input, so the default rules against privileged and host-network tasks fire.
 * Before runtime/: `runner: container` with DOCKER_HOST set failed the task with "no runner named
 * container (have: local)", and privileged/hostNetwork were always false.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { captureIo } from './cli-helpers.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

let podman: PodmanService;
let dir: string;

beforeAll(async () => {
  podman = await ensurePodmanService();
  dir = mkdtempSync(join(tmpdir(), 'maestro-runtime-runners-'));
}, 60_000);
afterAll(async () => {
  await podman?.stop();
});

function manifest(name: string, runner: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ${name}, namespace: demo }
spec:
  defaults: { runner: ${runner}, retry: { limit: 0 } }
  tasks:
    - id: build
      run: echo "uid=$(id -u)" >> "$MAESTRO_OUTPUT"
      outputs: [uid]
`,
  );
  return file;
}

async function run(file: string, env: Record<string, string>) {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const io = captureIo(dir, { PATH: process.env.PATH, HOME: dataDir, ...env });
  const code = await runCli(['run', file, '--data-dir', dataDir], io);
  const store = openStore({ dataDir });
  try {
    const [summary] = store.listRuns({});
    const runId = summary?.id;
    return {
      code,
      io,
      runId,
      task: runId ? store.getTask(runId, 'build') : undefined,
      attempts: runId ? store.listAttempts(runId, 'build') : [],
      logs: runId ? store.listLogs(runId).map((l) => l.text) : [],
    };
  } finally {
    store.close();
  }
}

describe('runners from the runtime', () => {
  it('runs `runner: container` on the socket DOCKER_HOST names, with no runners file, as a non-root user', async () => {
    const result = await run(manifest('boxed', 'container'), {
      DOCKER_HOST: `unix://${podman.socketPath}`,
      MAESTRO_CONTAINER_IMAGE: TEST_IMAGE,
    });
    expect(result.code, `${result.io.out()}\n${result.io.err()}`).toBe(0);
    expect(result.task!.state).toBe('succeeded');
    expect(result.attempts[0]!.outputs).toEqual({ uid: '1000' });
  }, 120_000);

  it('refuses a manifest naming a runner nobody configured before the run starts', async () => {
    const result = await run(manifest('nowhere', 'kubernetes'), {
      DOCKER_HOST: `unix://${podman.socketPath}`,
    });
    expect(result.code).toBe(1);
    expect(result.io.err()).toContain(
      'task build asks for the runner "kubernetes", which is not configured (configured: container, local)',
    );
    expect(result.io.err()).toMatch(/hint: add a `kubernetes` section to the runners config/);
    expect(result.io.err()).not.toMatch(/\n\s+at /);
    expect(result.runId, 'no run is created').toBeUndefined();
  }, 60_000);

  it('the default policy denies a task on a container runner configured privileged, or on the host network', async () => {
    for (const [setting, rule] of [
      ['privileged: true', /asks for a privileged runner \(container\): privileged execution is not allowed/],
      ['network: host', /asks for host networking: host networking is not allowed/],
    ] as const) {
      const config = join(dir, `${setting.split(':')[0]}.yaml`);
      writeFileSync(
        config,
        `container:\n  socketPath: ${podman.socketPath}\n  defaultImage: ${TEST_IMAGE}\n  ${setting}\n  resourceClasses:\n    small: {}\n`,
      );
      const result = await run(manifest('posture', 'container'), { MAESTRO_RUNNERS_CONFIG: config });
      expect(result.code, setting).toBe(1);
      expect(result.task, setting).toMatchObject({ state: 'blocked_by_policy', reason: 'policy_denied' });
      expect(result.attempts, `${setting}: nothing started`).toEqual([]);
      expect(result.logs.join('\n'), setting).toMatch(rule);
    }
  }, 60_000);
});
