/**
 * The Action's `run` mode on the container runner, from the committed bundle: the bundle has no
 * node_modules beside it, so everything the container runner loads must be inside it. Before,
 * dockerode was required at run time and the step failed with "Cannot find module 'dockerode'".
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActionStep } from './helpers/action-step.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

const BOXED = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: boxed, namespace: action-test }
spec:
  defaults: { runner: container, timeout: 60s }
  tasks:
    - id: inside
      run: echo "user=$(id -u)" >> "$MAESTRO_OUTPUT"
      outputs: [user]
`;

let root: string;
let podman: PodmanService;

beforeAll(async () => {
  podman = await ensurePodmanService();
  root = mkdtempSync(join(tmpdir(), 'maestro-action-container-'));
  const workspace = join(root, 'repo');
  mkdirSync(join(workspace, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(workspace, '.maestro', 'workflows', 'boxed.yaml'), BOXED);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: workspace });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  writeFileSync(
    join(root, 'runners.yaml'),
    `container:\n  socketPath: ${podman.socketPath}\n  defaultImage: ${TEST_IMAGE}\n  stopGraceMs: 2000\n  resourceClasses:\n    small: { memoryBytes: 268435456, pids: 256 }\n`,
  );
  writeFileSync(join(root, 'signing.pem'), freshKeyPairPem().privateKeyPem, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await podman.stop();
});

describe('mode run on the container runner', () => {
  it('runs the task in a container from the bundle alone, as the runners file says', async () => {
    const step = await runActionStep(
      { mode: 'run', workflow: '.maestro/workflows/boxed.yaml' },
      {
        workspace: join(root, 'repo'),
        env: {
          MAESTRO_RUNNERS_CONFIG: join(root, 'runners.yaml'),
          MAESTRO_SIGNING_KEY: join(root, 'signing.pem'),
          GITHUB_EVENT_NAME: 'push',
        },
      },
    );
    expect(step.stdout).not.toMatch(/Cannot find module/);
    expect(step.code, step.stdout).toBe(0);
    expect(step.outputs['status']).toBe('succeeded');
    expect(step.summary).toContain('inside');
    // The attempt's signed receipt says where it ran: a container, not the job's machine.
    const receipt = JSON.parse(
      readFileSync(
        join(step.outputs['receipts-dir']!, step.outputs['run-id']!, 'receipts', 'inside-1.sigstore.json'),
        'utf8',
      ),
    ) as { dsseEnvelope: { payload: string } };
    const statement = Buffer.from(receipt.dsseEnvelope.payload, 'base64').toString('utf8');
    expect(statement).toMatch(/"isolation":\{"network":"on","sandbox":"container"\}/);
  }, 120_000);

  it('refuses the kubernetes runner, which the bundle does not carry, saying what to use', async () => {
    writeFileSync(
      join(root, 'kube.yaml'),
      'kubernetes:\n  namespaces: { action-test: ci }\n  defaultImage: busybox\n  resourceClasses: { small: {} }\n',
    );
    const step = await runActionStep(
      { mode: 'run', workflow: '.maestro/workflows/boxed.yaml' },
      {
        workspace: join(root, 'repo'),
        env: { MAESTRO_RUNNERS_CONFIG: join(root, 'kube.yaml'), GITHUB_EVENT_NAME: 'push' },
      },
    );
    expect(step.code).toBe(1);
    expect(step.stdout).toMatch(/kubernetes runner is not part of this build/);
    expect(step.stdout).not.toMatch(/Cannot find module|at .*index\.js:\d+/);
  }, 120_000);
});
