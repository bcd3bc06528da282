// Building bundles with the real opa: the committed default bundle is reproducible, a
// repository's policy adds denies and overrides default data, and wasm decides like opa itself.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildPolicyBundle,
  createPdp,
  defaultBundlePath,
  defaultPolicyDir,
  readDefaultBundle,
  testPolicy,
} from '../policy/index.ts';
import { requireOpa, taskInput } from './policy-support.ts';

let opa: string;
let dir: string;

beforeAll(() => {
  opa = requireOpa();
  dir = mkdtempSync(join(tmpdir(), 'policy-bundle-test-'));
});

function repoPolicy(name: string, files: Record<string, string>): string {
  const repo = join(dir, name, '.maestro/policy');
  mkdirSync(repo, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(repo, file), text);
  return repo;
}

const toExample = taskInput({ kind: 'catalog', uses: 'tasks/http@1.0.0', targetHosts: ['api.example.org'] });

describe('the default bundle', () => {
  it('rebuilds byte-identical from its Rego and data (scripts/build-policy.ts)', async () => {
    const built = await buildPolicyBundle({
      opa,
      defaultDir: defaultPolicyDir,
      out: join(dir, 'default.tar.gz'),
    });
    expect(readFileSync(built.path).equals(readFileSync(defaultBundlePath))).toBe(true);
    expect(built.digest).toBe((await readDefaultBundle()).digest);
    expect(built.regoFiles).toEqual(['default/decision.rego', 'default/rules.rego']);
  });

  it('decides in wasm exactly as `opa eval` decides from the Rego source', async () => {
    const pdp = await createPdp(await readDefaultBundle());
    const inputs = [
      taskInput(),
      taskInput({ privileged: true, hostNetwork: true }),
      taskInput({ kind: 'catalog', uses: 'tasks/sig.export@1.0.0' }, { policy: { license: 'GPL-3.0' } }),
      taskInput({
        kind: 'catalog',
        uses: 'tasks/http@1.0.0',
        targetHosts: ['raw.githubusercontent.com', 'x.io'],
      }),
      taskInput({ kind: 'catalog', uses: 'tasks/http@1.0.0' }, { namespace: 'disclosure' }),
    ];
    const file = join(dir, 'inputs.json');
    for (const input of inputs) {
      writeFileSync(file, JSON.stringify(input));
      const out = execFileSync(
        opa,
        [
          'eval',
          '-f',
          'json',
          '-i',
          file,
          '-d',
          'decision.rego',
          '-d',
          'rules.rego',
          '-d',
          'data.json',
          'data.maestro.policy.decision',
        ],
        { cwd: defaultPolicyDir, encoding: 'utf8' },
      );
      const { allowed_hosts: allowedHosts, ...expected } = JSON.parse(out).result[0].expressions[0].value;
      expect(pdp.evaluate(input)).toEqual({ ...expected, allowedHosts, unavailable: false });
    }
  });
});

describe('repository policies', () => {
  it('override default data: a repository allow-list lets its own host through', async () => {
    const before = (await createPdp(await readDefaultBundle())).evaluate(toExample);
    expect(before.reasons).toEqual([
      'task build contacts host api.example.org, which is not on the outbound allow-list',
    ]);

    const repo = repoPolicy('hosts', { 'config.json': JSON.stringify({ allowed_hosts: ['*.example.org'] }) });
    const built = await buildPolicyBundle({
      opa,
      defaultDir: defaultPolicyDir,
      repoDir: repo,
      out: join(dir, 'hosts.tar.gz'),
    });
    const pdp = await createPdp(built.bundle);
    expect(pdp.evaluate(toExample)).toMatchObject({ allow: true, reasons: [], unavailable: false });
    // Replacing the list also drops the default entries: the repository owns its allow-list.
    expect(
      pdp.evaluate(taskInput({ kind: 'catalog', uses: 'tasks/http@1.0.0', targetHosts: ['api.github.com'] }))
        .allow,
    ).toBe(false);
    expect(built.digest).not.toBe((await readDefaultBundle()).digest);
  });

  it('add denies, which the default cannot outvote, and keep the default denies', async () => {
    const repo = repoPolicy('rules', {
      'no-latest.rego': `package maestro.repo

deny contains msg if {
	endswith(input.task.image, ":latest")
	msg := sprintf("task %s uses a :latest image; pin a digest", [input.task.id])
}
`,
      'no-latest_test.rego': `package maestro.repo_test

test_latest_denied if {
	count(data.maestro.repo.deny) == 1 with input as {"task": {"id": "x", "image": "busybox:latest"}}
}
`,
    });
    const built = await buildPolicyBundle({
      opa,
      defaultDir: defaultPolicyDir,
      repoDir: repo,
      out: join(dir, 'rules.tar.gz'),
    });
    expect(built.regoFiles).toEqual(['default/decision.rego', 'default/rules.rego', 'repo/no-latest.rego']);
    const pdp = await createPdp(built.bundle);
    const latest = taskInput({ kind: 'container', image: 'busybox:latest', privileged: true });
    expect(pdp.evaluate(latest).reasons).toEqual([
      'task build asks for a privileged runner (local): privileged execution is not allowed',
      'task build uses a :latest image; pin a digest',
    ]);
    expect(pdp.evaluate(taskInput({ kind: 'container', image: 'busybox@sha256:abc' })).allow).toBe(true);

    const tested = await testPolicy({ opa, defaultDir: defaultPolicyDir, repoDir: repo });
    expect(tested.ok).toBe(true);
    expect(tested.output).toContain('test_latest_denied');
    expect(tested.output).toContain('test_privileged_denied');
  });

  it('reports failing repository tests', async () => {
    const repo = repoPolicy('failing', {
      'x_test.rego':
        'package maestro.repo_test\n\n# privileged is always denied, so this expectation is wrong\ntest_wrong if {\n\tdata.maestro.policy.decision.allow with input as {"task": {"id": "x", "runner": "local", "privileged": true, "targetHosts": []}}\n}\n',
    });
    const tested = await testPolicy({ opa, defaultDir: defaultPolicyDir, repoDir: repo });
    expect(tested.ok).toBe(false);
    expect(tested.output).toMatch(/test_wrong: FAIL/);
  });

  it('refuse Rego outside package maestro.repo, and config that switches a protection off', async () => {
    const outside = repoPolicy('outside', { 'evil.rego': 'package maestro.policy\n\nreasons := []\n' });
    await expect(
      buildPolicyBundle({ opa, defaultDir: defaultPolicyDir, repoDir: outside, out: join(dir, 'x.tar.gz') }),
    ).rejects.toMatchObject({
      code: 'policy_build_failed',
      message: expect.stringContaining('package maestro.repo'),
    });
    const off = repoPolicy('off', { 'config.json': '{"require_known_hosts": false}' });
    await expect(
      buildPolicyBundle({ opa, defaultDir: defaultPolicyDir, repoDir: off, out: join(dir, 'y.tar.gz') }),
    ).rejects.toMatchObject({ message: expect.stringContaining('can only be set to true') });
    const unknown = repoPolicy('unknown', { 'config.json': '{"allow_everything": true}' });
    await expect(
      buildPolicyBundle({ opa, defaultDir: defaultPolicyDir, repoDir: unknown, out: join(dir, 'z.tar.gz') }),
    ).rejects.toMatchObject({ message: expect.stringContaining('unknown key "allow_everything"') });
  });

  it('report Rego syntax errors from opa build with file and line', async () => {
    const broken = repoPolicy('broken', { 'bad.rego': 'package maestro.repo\n\ndeny contains msg if {\n' });
    await expect(
      buildPolicyBundle({ opa, defaultDir: defaultPolicyDir, repoDir: broken, out: join(dir, 'b.tar.gz') }),
    ).rejects.toMatchObject({
      code: 'policy_build_failed',
      message: expect.stringMatching(/repo\/bad\.rego:\d+/),
    });
  });
});
