import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../core/index.ts';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { captureIo } from './cli-helpers.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

// `maestro run --runner container --runners <file>`: the quickstart manifest, unchanged, runs in
// real Podman containers and produces the same outputs as on the local runner.
const root = fileURLToPath(new URL('..', import.meta.url));
const HELLO = 'examples/quickstart/.maestro/workflows/hello.yaml';

let podman: PodmanService;
let dir: string;

beforeAll(async () => {
  podman = await ensurePodmanService();
  dir = mkdtempSync(join(tmpdir(), 'maestro-cli-runners-'));
}, 60_000);
afterAll(async () => {
  await podman?.stop();
});

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const containerSection = (image: string): string => `container:
  socketPath: ${podman.socketPath}
  defaultImage: ${image}
  stopGraceMs: 2000
  resourceClasses:
    small: { memoryBytes: 268435456, pids: 256 }
`;

async function run(args: string[], env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const io = captureIo(root, env);
  const code = await runCli(['run', HELLO, '--data-dir', dataDir, ...args], io);
  const store = openStore({ dataDir });
  try {
    const [summary] = store.listRuns({});
    const record = summary ? store.getRun(summary.id) : undefined;
    const outputs: Record<string, Record<string, string>> = {};
    const states: Record<string, string> = {};
    const reasons: string[] = [];
    if (record) {
      for (const t of store.listTasks(record.id)) states[t.taskId] = t.state;
      for (const a of store.listAttempts(record.id)) {
        outputs[a.taskId] = a.outputs;
        if (a.reason) reasons.push(a.reason);
      }
    }
    return { code, io, record, outputs, states, reasons };
  } finally {
    store.close();
  }
}

describe('maestro run on the container runner', () => {
  it('runs the quickstart unchanged in Podman containers, with the local run’s outputs', async () => {
    const local = await run([]);
    expect(local.code, local.io.err()).toBe(0);
    const config = writeConfig('runners.yaml', containerSection(TEST_IMAGE));
    const boxed = await run(['--runner', 'container', '--runners', config]);
    expect(boxed.code, `${boxed.io.out()}\n${boxed.io.err()}`).toBe(0);
    expect(boxed.record!.status).toBe('succeeded');
    expect(boxed.outputs).toEqual(local.outputs);
    expect(boxed.outputs.greet).toEqual({ greeting: 'Hello, world!' });
    expect(boxed.states).toEqual(local.states);
    expect(boxed.io.out()).toContain('Hello, world! (13 characters)');

    // The stored plan is the transformed one: every task on `container`, its own digest, and the
    // compiled plan's digest kept as a label.
    const plan = boxed.record!.plan;
    expect(plan.tasks.map((t) => t.runner)).toEqual(plan.tasks.map(() => 'container'));
    const { digest, ...body } = plan;
    expect(digest).toBe(digestOf(body));
    expect(boxed.record!.planDigest).toBe(digest);
    expect(digest).not.toBe(local.record!.planDigest);
    expect(plan.workflow.labels['maestro.dev/source-plan-digest']).toBe(local.record!.planDigest);
    for (const task of plan.tasks) {
      const { definitionDigest, ...rest } = task;
      expect(definitionDigest).toBe(digestOf(rest));
    }
  }, 120_000);

  it('really goes through the container runner: a missing image fails the run (config via env)', async () => {
    const config = writeConfig('missing-image.yaml', containerSection('localhost/maestro-no-such-image:0'));
    const result = await run(['--runner', 'container'], { MAESTRO_RUNNERS_CONFIG: config });
    expect(result.code).toBe(1);
    expect(result.record!.status).toBe('failed');
    expect(result.reasons).toContain('ImageNotFound');
  }, 60_000);

  it('refuses a bad runners config with a message naming the key, not a stack trace', async () => {
    const root = writeConfig('root.yaml', containerSection(TEST_IMAGE) + '  user: root\n');
    const cases: Array<[string, string, RegExp, number]> = [
      [root, 'user', /root\.yaml: container runner: `user` must not be root/, 1],
      [writeConfig('typo.yaml', 'containers: {}\n'), 'typo', /typo\.yaml: unknown key `containers`/, 1],
      [
        writeConfig('classes.json', JSON.stringify({ container: { socketPath: '/x', defaultImage: 'y' } })),
        'classes',
        /classes\.json: `container\.resourceClasses` must be a mapping/,
        1,
      ],
      [
        writeConfig('k8s.yaml', 'kubernetes:\n  defaultImage: x\n  namespaces: {}\n  resourceClasses: {}\n'),
        'namespaces',
        /k8s\.yaml: kubernetes runner: `namespaces` must map at least one/,
        1,
      ],
      [join(dir, 'absent.yaml'), 'absent', /runners config .*absent\.yaml does not exist/, 2],
    ];
    for (const [file, label, message, exit] of cases) {
      const result = await run(['--runner', 'container', '--runners', file]);
      expect(result.code, label).toBe(exit);
      expect(result.io.err(), label).toMatch(message);
      expect(result.io.err(), label).not.toMatch(/\n\s+at /);
      expect(result.record, `${label}: no run is created`).toBeUndefined();
    }
    const unconfigured = await run(['--runner', 'kubernetes']);
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.io.err()).toMatch(/no kubernetes runner is configured/);
  }, 60_000);
});
