/**
 * triggers.manual from GitHub: the default branch head's validate check run carries a
 * "Run <workflow>" button per manually triggerable workflow; pressing it runs that workflow at
 * that commit, only for a sender with write access and only while the commit is the head.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkRunPayload,
  closeChecked,
  grantPermissions,
  startHarness,
  type Harness,
} from './github-standin/app-harness.ts';
import type { Payload } from './github-standin/index.ts';

function workflow(name: string, triggers: string, extra = ''): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: ${name}
  namespace: demo
spec:
${extra}  triggers:
${triggers}
  defaults:
    runner: local
  tasks:
    - id: step
      run: echo ${name}
`;
}

/** A press of the validate check run's button `identifier` by `sender`. */
function pressed(externalId: string, headSha: string, sender: string, identifier: string): Payload {
  return checkRunPayload('requested_action', { externalId, headSha }, sender, identifier);
}

describe('"Run <workflow>" on the validate check run', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ runUpdateIntervalMs: 100 });
    grantPermissions(h.standin, { carol: 'write', mallory: 'read' });
  });
  afterEach(() => closeChecked(h));

  async function pushMain(files: Record<string, string>) {
    const sha = h.repo.commit({ branch: 'main', login: 'carol', files });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    await h.idle();
    return sha;
  }

  it('offers a button per manual workflow and runs it for a writer, never for a reader', async () => {
    const sha = await pushMain({
      '.maestro/workflows/release.yaml': workflow('release', '    manual: true'),
      '.maestro/workflows/on-push.yaml': workflow('pushed', '    push:\n      branches: [main]'),
    });
    const [validate] = h.standin.checkRunsNamed('maestro / validate', sha);
    expect(validate!.actions).toEqual([
      {
        label: 'Run release',
        description: 'Run demo/release at this commit',
        identifier: expect.stringMatching(/^run:[0-9a-f]{16}$/),
      },
    ]);
    const identifier = String(validate!.actions[0]!.identifier);

    // A reader's press (the attack: anyone who can see the check run can send the event) runs nothing.
    await h.deliver('check_run', pressed(validate!.external_id, sha, 'mallory', identifier));
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / run demo/release', sha)).toEqual([]);

    await h.deliver('check_run', pressed(validate!.external_id, sha, 'carol', identifier));
    await h.idle();
    const runs = h.standin.checkRunsNamed('maestro / run demo/release', sha);
    expect(runs.map((r) => r.conclusion)).toEqual(['success']);
    const [run] = (await h.runtime.engines.trusted.store.listRuns()).filter((r) => r.workflow === 'release');
    expect([run!.trigger, run!.actor]).toEqual(['manual', 'carol']);
  });

  it("an older commit's button does nothing once the default branch has moved", async () => {
    const old = await pushMain({
      '.maestro/workflows/release.yaml': workflow('release', '    manual: true'),
    });
    const [validate] = h.standin.checkRunsNamed('maestro / validate', old);
    await pushMain({ 'README.md': 'moved on\n' });
    await h.deliver(
      'check_run',
      pressed(validate!.external_id, old, 'carol', String(validate!.actions[0]!.identifier)),
    );
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / run demo/release')).toEqual([]);
  });

  it('a gated manual workflow follows the default branch rules: no attestation at the head, no run', async () => {
    const sha = await pushMain({
      '.maestro/workflows/release.yaml': workflow(
        'release',
        '    manual: true',
        '  approvals:\n    required: 1\n',
      ),
    });
    const [validate] = h.standin.checkRunsNamed('maestro / validate', sha);
    await h.deliver(
      'check_run',
      pressed(validate!.external_id, sha, 'carol', String(validate!.actions[0]!.identifier)),
    );
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / run demo/release', sha).map((r) => r.conclusion)).toEqual([
      'action_required',
    ]);
    expect(await h.runtime.engines.trusted.store.listRuns()).toEqual([]);
  });

  it('a branch other than the default gets no buttons', async () => {
    const sha = h.repo.commit({
      branch: 'feature',
      login: 'carol',
      files: { '.maestro/workflows/release.yaml': workflow('release', '    manual: true') },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/feature', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / validate', sha)[0]!.actions).toEqual([]);
  });
});
