/**
 * The App asks policy before every task (issue 10): the app over HTTP against the GitHub stand-in,
 * built by the one composition root (runtime/) from the same variables `maestro run` reads.
 * Before openRuntime the App's engines had no policy gate at all, so the denied task below ran
 * and its check run was green.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPolicyBundle, defaultPolicyDir } from '../policy/index.ts';
import { verifyBundle } from '../provenance/index.ts';
import { closeChecked, startHarness, type Harness } from './github-standin/app-harness.ts';
import { requireOpa } from './policy-support.ts';
import { waitFor } from './helpers/wait-for.ts';

function workflow(name: string, license: string, namespace = 'demo'): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  policy: { purpose: ci, authority: team:ci, license: ${license} }
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
    retry:
      limit: 0
  tasks:
    - id: build
      run: echo built
`;
}

async function pushWorkflow(h: Harness, name: string, license: string, namespace?: string): Promise<string> {
  const sha = h.repo.commit({
    branch: 'main',
    login: 'carol',
    files: { [`.maestro/workflows/${name}.yaml`]: workflow(name, license, namespace) },
  });
  await h.deliver(
    'push',
    h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
  );
  await h.idle();
  return sha;
}

describe('policy on the GitHub path', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    if (!h) return;
    const closing = h;
    h = undefined;
    await closeChecked(closing);
  });

  it('a policy deny halts an App-dispatched task before it starts, and its check run shows the reason', async () => {
    h = await startHarness({ runUpdateIntervalMs: 100 });
    // The default bundle denies a license outside its allow-list (rule 2).
    const sha = await pushWorkflow(h, 'unlicensed', 'WTFPL');
    const [check] = h.standin.checkRunsNamed('maestro / run demo/unlicensed', sha);
    expect(check!.status).toBe('completed');
    expect(check!.conclusion).toBe('failure');
    expect(check!.output.summary).toMatch(/\| `build` \| blocked_by_policy \| 0 \|/);
    expect(check!.output.summary).toContain(
      '- `build` denied by policy: license "WTFPL" is not on the allow-list',
    );
    const [run] = await h.runtime.engineStore.listRuns();
    expect(await h.runtime.engineStore.getTask(run!.id, 'build')).toMatchObject({
      state: 'blocked_by_policy',
      reason: 'policy_denied',
    });
    // Nothing started: no attempt was ever recorded for the task.
    expect(await h.runtime.engineStore.listAttempts(run!.id, 'build')).toEqual([]);
  });

  it('an allowed task runs, with its decision recorded on the attempt', async () => {
    h = await startHarness({ runUpdateIntervalMs: 100 });
    const sha = await pushWorkflow(h, 'licensed', 'MIT');
    const [check] = h.standin.checkRunsNamed('maestro / run demo/licensed', sha);
    expect(check!.conclusion).toBe('success');
    expect(check!.output.summary).toContain('- policy: asked before every task');
    const [run] = await h.runtime.engineStore.listRuns();
    const [attempt] = await h.runtime.engineStore.listAttempts(run!.id, 'build');
    expect(attempt!.policyDecisionIds).toHaveLength(1);
  });

  it('MAESTRO_POLICY=off is stated on the run log, the check run and every receipt', async () => {
    h = await startHarness({ runUpdateIntervalMs: 100, env: { MAESTRO_POLICY: 'off' } });
    // Denied with policy on; with policy turned off on purpose it runs, and says so everywhere.
    const sha = await pushWorkflow(h, 'unchecked', 'WTFPL');
    const [check] = h.standin.checkRunsNamed('maestro / run demo/unchecked', sha);
    expect(check!.conclusion).toBe('success');
    expect(check!.output.summary).toContain(
      '- policy: **off** (MAESTRO_POLICY=off): tasks ran without a policy decision',
    );
    const [run] = await h.runtime.engineStore.listRuns();
    const log = (await h.runtime.engineStore.listLogs(run!.id)).map((l) => l.text);
    expect(log).toContain(
      'policy off (MAESTRO_POLICY=off): tasks run without a policy decision; receipts say so',
    );
    // The run receipt attests the run's end, so it is stored just after the check run completes.
    const store = h.runtime.engineStore;
    const receipts = await waitFor('the run receipt', async () => {
      const stored = await store.listReceipts(run!.id);
      return stored.some((r) => r.taskId === '') ? stored : undefined;
    });
    expect(receipts.map((r) => r.taskId).sort()).toEqual(['', 'build']);
    for (const receipt of receipts) {
      const verified = verifyBundle(receipt.bundle, { publicKey: h.runtime.runtime.signer!.publicKeyPem! });
      const maestro = (
        verified.statement!.predicate as {
          buildDefinition: { internalParameters: { maestro: { policy?: { off?: boolean } } } };
        }
      ).buildDefinition.internalParameters.maestro;
      expect(maestro.policy?.off, `receipt of ${receipt.taskId || 'the run'}`).toBe(true);
    }
  });

  it('an operator bundle (MAESTRO_POLICY) that marks a namespace sensitive gates it: no run without an approval', async () => {
    // The operator's configuration adds `vault` to the sensitive namespaces (docs/policy.md);
    // the App's approval gate must read the bundle the engines enforce, not the built-in one.
    const dir = mkdtempSync(join(tmpdir(), 'maestro-app-operator-policy-'));
    try {
      const repoDir = join(dir, 'policy');
      mkdirSync(repoDir);
      writeFileSync(join(repoDir, 'config.json'), JSON.stringify({ sensitive_namespaces: ['vault'] }));
      const built = await buildPolicyBundle({
        opa: requireOpa(),
        defaultDir: defaultPolicyDir,
        repoDir,
        out: join(dir, 'operator.tar.gz'),
      });
      h = await startHarness({ runUpdateIntervalMs: 100, env: { MAESTRO_POLICY: built.path } });
      const sha = await pushWorkflow(h, 'secrets', 'MIT', 'vault');
      const [refused] = h.standin.checkRunsNamed('maestro / run vault/secrets', sha);
      expect(refused!.conclusion).toBe('action_required');
      expect(refused!.output.summary).toContain('no approval attestation exists');
      expect(await h.runtime.engineStore.listRuns()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
