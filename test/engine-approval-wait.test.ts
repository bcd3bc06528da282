/**
 * A run submitted with `awaitApproval` waits: stored in waiting_for_approval (never queued), it
 * executes nothing until `approve` moves it to queued with the attestation digest its receipts
 * then cite; cancelling it while it waits works, and a retry of a run cancelled before its
 * approval is refused (it would go straight to queued and skip the gate). The real local runner
 * on SQLite records what it was asked to start.
 */
import { describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore } from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

function setup() {
  const dataDir = tempDir();
  const runner = recordingLocalRunner();
  const engine = createEngine({
    policy: policyOff('engine test: the approval wait, not policy'),
    store: asyncSqliteStore(openStore({ dataDir })),
    dataDir,
    runners: new RunnerRegistry().register(runner),
  });
  const plan = planOf([shellTask('a', 'true')], { approvals: { required: 1, from: [] } });
  return { engine, runner, plan };
}

const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('a run waiting for approval', () => {
  it('executes nothing before approve, then runs with the approval digest', async () => {
    const { engine, runner, plan } = setup();
    const id = await engine.submit(plan, { awaitApproval: true, actor: 'bob', trust: 'trusted' });
    expect(await engine.store.getRun(id)).toMatchObject({ status: 'waiting_for_approval' });
    await expect(engine.execute(id)).rejects.toMatchObject({ code: 'approval_pending' });
    expect(runner.started).toEqual([]);
    const approved = await engine.approve(id, { by: 'alice', approvalDigest: DIGEST });
    expect(approved).toMatchObject({ status: 'queued', reason: 'approval_granted', approvalDigest: DIGEST });
    await expect(engine.approve(id, { by: 'carol', approvalDigest: DIGEST })).rejects.toMatchObject({
      code: 'run_not_waiting',
    });
    expect((await engine.execute(id)).status).toBe('succeeded');
    expect(runner.started).toEqual(['a#1']);
    await runner.close();
  });

  it('is cancelled while it waits, and a retry of it is refused', async () => {
    const { engine, runner, plan } = setup();
    const id = await engine.submit(plan, { awaitApproval: true, actor: 'bob', trust: 'trusted' });
    await engine.cancel(id, { by: 'bob' });
    expect(await engine.store.getRun(id)).toMatchObject({ status: 'cancelled' });
    expect((await engine.store.listTasks(id)).map((t) => t.state)).toEqual(['cancelled']);
    await expect(engine.retry(id, { by: 'bob' })).rejects.toMatchObject({ code: 'run_not_approved' });
    await expect(engine.approve(id, { by: 'alice', approvalDigest: DIGEST })).rejects.toMatchObject({
      code: 'run_not_waiting',
    });
    expect(runner.started).toEqual([]);
    await runner.close();
  });
});
