// The OPA-backed gate with real Rego compiled by the real opa: allow, deny with reasons, and
// every fail-closed case, each of which must still be recorded in the decision log.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { create as createTar } from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createOpaPolicyGate,
  createPdp,
  openDecisionLog,
  readDefaultBundle,
  readPolicyBundleFile,
  type PolicyBundle,
} from '../policy/index.ts';
import { compileRego, counterIds, fixedClock, requireOpa, taskInput } from './policy-support.ts';

const correlation = { runId: 'run-1', taskId: 'build', attempt: 1, deliveryId: 'delivery-9' };
let opa: string;
let dir: string;

beforeAll(() => {
  opa = requireOpa();
  dir = mkdtempSync(join(tmpdir(), 'policy-gate-test-'));
});

function gateWith(
  bundle: Parameters<typeof createOpaPolicyGate>[0]['bundle'],
  pdp = {},
  isolation: 'worker' | 'inline' = 'worker',
) {
  const log = openDecisionLog(':memory:');
  return {
    log,
    gate: createOpaPolicyGate({ bundle, log, clock: fixedClock, ids: counterIds(), pdp, isolation }),
  };
}

async function expectUnavailable(gate: ReturnType<typeof gateWith>, input: unknown, what: RegExp) {
  const decision = await gate.gate.decide(input as never, correlation);
  expect(decision.allow).toBe(false);
  expect(decision.unavailable).toBe(true);
  expect(decision.reasons).toHaveLength(1);
  expect(decision.reasons[0]).toMatch(/^policy unavailable: /);
  expect(decision.reasons[0]).toMatch(what);
  const [entry] = await gate.log.entries();
  expect(entry).toMatchObject({
    decisionId: decision.decisionId,
    allow: false,
    unavailable: true,
    reasons: decision.reasons,
  });
  return decision;
}

describe('default bundle decisions', () => {
  it('allows a plain shell task and records the decision with its correlation', async () => {
    const bundle = await readDefaultBundle();
    const { gate, log } = gateWith(bundle);
    const decision = await gate.decide(taskInput(), correlation);
    expect(decision).toMatchObject({ decisionId: 'd-1', allow: true, reasons: [], unavailable: false });
    expect(decision.bundleDigest).toBe(bundle.digest);
    expect(gate.bundleDigest()).toBe(bundle.digest);
    const [entry] = await log.entries();
    expect(entry).toMatchObject({
      seq: 1,
      decisionId: 'd-1',
      runId: 'run-1',
      taskId: 'build',
      attempt: 1,
      deliveryId: 'delivery-9',
      inputDigest: decision.inputDigest,
      bundleDigest: bundle.digest,
      allow: true,
      time: '2026-11-23T12:00:00.000Z',
    });
  });

  it('denies with one human reason per broken rule', async () => {
    const { gate } = gateWith(readDefaultBundle());
    const input = taskInput(
      {
        kind: 'catalog',
        uses: 'tasks/http@1.0.0',
        targetHosts: ['evil.example', 'api.github.com'],
        hostNetwork: true,
      },
      { policy: { license: 'WTFPL' } },
    );
    const decision = await gate.decide(input, correlation);
    expect(decision.allow).toBe(false);
    expect(decision.unavailable).toBe(false);
    expect(decision.reasons).toEqual([
      'license "WTFPL" is not on the allow-list (Apache-2.0, BSD-3-Clause, CC-BY-4.0, CC0-1.0, MIT, internal)',
      'task build asks for host networking: host networking is not allowed',
      'task build contacts host evil.example, which is not on the outbound allow-list',
    ]);
  });

  it('requires purpose, authority and license for a sensitive task, and allows it with them', async () => {
    const { gate } = gateWith(readDefaultBundle());
    const sensitive = taskInput({ kind: 'catalog', uses: 'tasks/sig.export@1.0.0' });
    const denied = await gate.decide(sensitive, correlation);
    expect(denied.reasons.map((r) => /spec\.policy\.(\w+)/.exec(r)?.[1])).toEqual([
      'authority',
      'license',
      'purpose',
    ]);
    const allowed = await gate.decide(
      { ...sensitive, policy: { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' } },
      correlation,
    );
    expect(allowed).toMatchObject({ allow: true, reasons: [] });
  });

  it('treats a sensitive namespace and a sensitive label like a sensitive task', async () => {
    const { gate } = gateWith(readDefaultBundle());
    const byNamespace = await gate.decide(taskInput({}, { namespace: 'legal' }), correlation);
    expect(byNamespace.reasons[0]).toContain('namespace legal is marked sensitive');
    const byLabel = await gate.decide(
      taskInput(
        {},
        {
          workflow: {
            name: 'w',
            namespace: 'data',
            kind: 'Workflow',
            labels: { 'maestro.dev/sensitive': 'true' },
          },
        },
      ),
      correlation,
    );
    expect(byLabel.reasons[0]).toContain('label maestro.dev/sensitive=true is marked sensitive');
  });
});

describe('fail closed', () => {
  it('no bundle', async () => {
    const g = gateWith(undefined);
    const d = await expectUnavailable(g, taskInput(), /no policy bundle is configured/);
    expect(d.bundleDigest).toBe('none');
  });

  it('a bundle file that does not exist', async () => {
    await expectUnavailable(gateWith(join(dir, 'missing.tar.gz')), taskInput(), /cannot read policy bundle/);
  });

  it('a corrupt bundle: not a gzip tar', async () => {
    const path = join(dir, 'garbage.tar.gz');
    writeFileSync(path, 'not a bundle');
    await expectUnavailable(gateWith(path), taskInput(), /not a gzip'd tar bundle/);
  });

  it('a corrupt bundle: bad wasm', async () => {
    const src = join(dir, 'badwasm');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'policy.wasm'), Buffer.from('\0asm\x01\0\0\0garbage-after-header'));
    writeFileSync(join(src, 'data.json'), '{}');
    const path = join(dir, 'badwasm.tar.gz');
    await createTar({ gzip: true, file: path, cwd: src }, ['policy.wasm', 'data.json']);
    await expectUnavailable(gateWith(path), taskInput(), /policy wasm cannot be loaded/);
  });

  it('an evaluation error (a conflict the wasm aborts on)', async () => {
    const path = compileRego(opa, dir, {
      'conflict.rego': `package maestro.policy
decision := {"allow": true, "reasons": []} if input.task.id
decision := {"allow": false, "reasons": ["x"]} if input.task.kind
`,
    });
    await expectUnavailable(gateWith(path), taskInput(), /evaluation error/);
  });

  it('an evaluation that overruns its deadline, inline: the late result is discarded', async () => {
    // The wasm call cannot be interrupted on the caller's thread; the late result is discarded.
    // The injected monotonic clock advances 100 ms per reading, so the overrun is deterministic.
    let t = 0;
    const g = gateWith(readDefaultBundle(), { timeoutMs: 50, now: () => (t += 100) }, 'inline');
    await expectUnavailable(g, taskInput(), /over the 50 ms deadline/);
  });

  it('an evaluation that overruns its deadline, worker: it is stopped and a fresh worker serves the next call', async () => {
    // 16 million comparisons: seconds of wasm work for the task named "slow", none for others.
    const path = compileRego(opa, dir, {
      'slow.rego': `package maestro.policy

r := numbers.range(1, 4000)

decision := {"allow": true, "reasons": []} if input.task.id != "slow"

decision := {"allow": true, "reasons": []} if {
	input.task.id == "slow"
	count([1 | some x in r; some y in r; x > y; x < 0]) == 0
}
`,
    });
    const g = gateWith(path, { timeoutMs: 200, maxMemoryPages: 16384 });
    await expectUnavailable(g, taskInput({ id: 'slow' }), /exceeded the 200 ms deadline and was stopped/);
    const after = await g.gate.decide(taskInput({ id: 'fast' }), correlation);
    expect(after).toMatchObject({ allow: true, unavailable: false });
    expect((await g.log.entries()).map((e) => e.allow)).toEqual([false, true]);
    await g.gate.close();
  });

  it('an undefined result', async () => {
    const path = compileRego(opa, dir, {
      'undef.rego': `package maestro.policy
decision := {"allow": true, "reasons": []} if input.task.id == "never"
`,
    });
    await expectUnavailable(gateWith(path), taskInput(), /result is undefined/);
  });

  it('a result of the wrong shape', async () => {
    const path = compileRego(opa, dir, {
      'shape.rego': 'package maestro.policy\ndecision := {"allow": "yes"}\n',
    });
    await expectUnavailable(gateWith(path), taskInput(), /not \{allow: boolean, reasons: \[string\]\}/);
  });

  it('an input that does not match the schema', async () => {
    const input = { ...taskInput(), task: { ...taskInput().task, privileged: 'no' } };
    await expectUnavailable(gateWith(readDefaultBundle()), input, /\/task\/privileged: must be boolean/);
  });

  it('an input over the size bound', async () => {
    const input = taskInput({ targetHosts: Array.from({ length: 5000 }, (_, i) => `h${i}.api.github.com`) });
    await expectUnavailable(
      gateWith(readDefaultBundle(), { maxInputBytes: 4096 }),
      input,
      /over the 4096-byte bound/,
    );
  });
});

describe('recording', () => {
  it('throws, and records nothing, when the decision cannot be recorded', async () => {
    const db = new DatabaseSync(':memory:');
    const log = openDecisionLog(db);
    const gate = createOpaPolicyGate({
      bundle: readDefaultBundle(),
      log,
      clock: fixedClock,
      ids: counterIds(),
    });
    await gate.decide(taskInput(), correlation);
    // A decision id that is already in the log: the UNIQUE constraint refuses the append.
    const dup = createOpaPolicyGate({
      bundle: readDefaultBundle(),
      log,
      clock: fixedClock,
      ids: () => 'd-1',
    });
    await expect(dup.decide(taskInput(), correlation)).rejects.toMatchObject({
      code: 'policy_log_write_failed',
    });
    expect(await log.entries()).toHaveLength(1);
    db.close();
    await expect(gate.decide(taskInput(), correlation)).rejects.toMatchObject({
      code: 'policy_log_write_failed',
    });
  });

  it('instantiates the wasm once: one PDP evaluates many inputs', async () => {
    const bundle: PolicyBundle = await readPolicyBundleFile(
      (await import('../policy/index.ts')).defaultBundlePath,
    );
    const pdp = await createPdp(bundle);
    const results = Array.from({ length: 200 }, (_, i) =>
      pdp.evaluate(taskInput({ id: `t${i}`, privileged: i % 2 === 1 })),
    );
    expect(results.filter((r) => r.allow)).toHaveLength(100);
    expect(results[1]?.reasons[0]).toBe(
      'task t1 asks for a privileged runner (local): privileged execution is not allowed',
    );
  });
});
