/**
 * The approval task (`uses: tasks/approval@1`) in the engine, on the real SQLite store and the real
 * local runner: the run parks in waiting_for_approval holding no process, and only signed
 * approvals bound to this run's plan digest and this task, from allowed reviewers other than the
 * run's author, each counted once, release it; a timeout rejects or escalates; approvals and
 * timeouts apply with no executor alive (a fresh engine on the same data dir carries on).
 * Attack cases first: each was run against a count that skipped its check (see the report).
 */
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { compileManifest } from '../compiler/index.ts';
import { policyOff, RunnerRegistry, type Plan } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore, type AsyncStore } from '../engine/index.ts';
import { createLocalKeySigner, signTaskApproval } from '../provenance/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { fakeClock, recordingLocalRunner, tempDir } from './helpers/engine-fixtures.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { PARENT_SPAN_ID, TRACE_ID, TRACEPARENT } from './helpers/task-spans.ts';

const catalog = await loadBuiltinCatalog();
const key = freshKeyPairPem();
const signer = createLocalKeySigner({ privateKeyPem: key.privateKeyPem });

function manifest(withBlock: string): Plan {
  const text = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: deploy, namespace: team-a }
spec:
  tasks:
    - id: build
      run: "true"
    - id: gate
      uses: tasks/approval@1
      needs: [build]
      with:
${withBlock}
    - id: ship
      run: "true"
      needs: [gate]
`;
  const result = compileManifest(text, { catalog, file: 'deploy.yaml' });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !result.plan) throw new Error(JSON.stringify(errors));
  return result.plan;
}

function setup(dataDir = tempDir(), clock = fakeClock(), tracer?: Tracer) {
  const runner = recordingLocalRunner();
  const store: AsyncStore = asyncSqliteStore(openStore({ dataDir }));
  const engine = createEngine({
    policy: policyOff('engine test: the approval task, not policy'),
    store,
    dataDir,
    clock,
    runners: new RunnerRegistry().register(runner),
    approvals: { signer },
    ...(tracer ? { tracer } : {}),
  });
  return { engine, runner, store, dataDir, clock };
}

async function parked(withBlock = '        approvals: 2\n        reviewers: [alice, bob, carol, mallory]') {
  const s = setup();
  const plan = manifest(withBlock);
  const id = await s.engine.submit(plan, { actor: 'mallory', trust: 'trusted' });
  const run = await s.engine.execute(id);
  return { ...s, plan, id, run };
}

const states = async (store: AsyncStore, id: string) =>
  Object.fromEntries((await store.listTasks(id)).map((t) => [t.taskId, t.state]));

describe('an approval task', () => {
  it('parks the run in waiting_for_approval with nothing running, visible in its transitions', async () => {
    const { store, id, run, runner } = await parked();
    expect(run.status).toBe('waiting_for_approval');
    expect(await states(store, id)).toEqual({
      build: 'succeeded',
      gate: 'waiting_for_approval',
      ship: 'queued',
    });
    expect(runner.started).toEqual(['build#1']);
    const runMoves = (await store.listTransitions(id, null)).map((t) => `${t.to}:${t.reason}`);
    expect(runMoves.at(-1)).toBe('waiting_for_approval:approval_required');
    // Nobody holds the run: a claim would not hand it out either.
    expect(await store.claimRun('someone', Date.now(), 10_000)).toBeNull();
  });

  it('the run’s author cannot approve (as a pull request’s author cannot)', async () => {
    const { engine, id } = await parked();
    await expect(engine.approveTask(id, 'gate', { approver: 'Mallory', via: 'api' })).rejects.toMatchObject({
      code: 'approver_is_author',
    });
  });

  it('a reviewer not allowed is refused, and a stored approval from one does not count', async () => {
    const { engine, store, id, run } = await parked();
    await expect(engine.approveTask(id, 'gate', { approver: 'eve', via: 'api' })).rejects.toMatchObject({
      code: 'approver_not_allowed',
    });
    // Planted past the engine's check (a validly signed row for eve): still not counted.
    await plant(store, run, 'gate', 'eve');
    const count = await engine.countTaskApprovals(id, 'gate');
    expect(count.approvers).toEqual([]);
    expect(count.notCounted).toEqual([{ approver: 'eve', reason: 'not an allowed reviewer' }]);
  });

  it('an approval for another run’s digest or another task does not count', async () => {
    const { engine, store, id, run } = await parked();
    await plant(store, run, 'gate', 'alice', { planDigest: `sha256:${'e'.repeat(64)}` });
    await plant(store, run, 'gate', 'bob', { taskId: 'ship' });
    await plant(store, run, 'gate', 'carol', { runId: 'r-other' });
    const count = await engine.countTaskApprovals(id, 'gate');
    expect(count.approvers).toEqual([]);
    expect(count.notCounted.map((n) => n.approver).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(count.notCounted.find((n) => n.approver === 'alice')?.reason).toMatch(/another plan/);
    expect(count.notCounted.find((n) => n.approver === 'bob')?.reason).toMatch(/taskId/);
    expect(count.notCounted.find((n) => n.approver === 'carol')?.reason).toMatch(/runId/);
    await engine.sweepApprovals();
    expect((await store.getRun(id)).status).toBe('waiting_for_approval');
  });

  it('a bundle signed by another key does not count', async () => {
    const { engine, store, id, run } = await parked();
    const other = createLocalKeySigner({ privateKeyPem: freshKeyPairPem().privateKeyPem });
    await plant(store, run, 'gate', 'alice', {}, other);
    expect((await engine.countTaskApprovals(id, 'gate')).approvers).toEqual([]);
  });

  it('the same reviewer twice counts once, then a second reviewer releases the run and it finishes', async () => {
    const { engine, store, id, runner } = await parked();
    const first = await engine.approveTask(id, 'gate', { approver: 'alice', via: 'api' });
    expect(first).toMatchObject({ recorded: true, run: { status: 'waiting_for_approval' } });
    const again = await engine.approveTask(id, 'gate', { approver: 'ALICE', via: 'api' });
    expect(again.recorded).toBe(false);
    expect(again.count.approvers.map((a) => a.approver)).toEqual(['alice']);
    expect((await store.listTaskApprovals(id, 'gate')).length).toBe(1);
    const second = await engine.approveTask(id, 'gate', { approver: 'bob', via: 'api' });
    expect(second.run).toMatchObject({ status: 'queued', reason: 'approval_granted' });
    expect((await store.getTask(id, 'gate')).state).toBe('succeeded');
    expect((await engine.execute(id)).status).toBe('succeeded');
    expect(runner.started).toEqual(['build#1', 'ship#1']);
  });

  it('team members count through the teams the surface vouched for', async () => {
    const { engine, id } = await parked('        teams: [release]');
    await expect(
      engine.approveTask(id, 'gate', { approver: 'dora', via: 'api', teams: ['qa'] }),
    ).rejects.toMatchObject({
      code: 'approver_not_allowed',
    });
    const done = await engine.approveTask(id, 'gate', { approver: 'dora', via: 'api', teams: ['release'] });
    expect(done.run.status).toBe('queued');
  });

  it('survives its engine: an approval with no executor alive is applied, and a fresh engine finishes the run', async () => {
    const a = await parked('        reviewers: [alice]');
    const b = setup(a.dataDir);
    await b.engine.approveTask(a.id, 'gate', { approver: 'alice', via: 'api' });
    const claimed = await b.engine.claim();
    expect(claimed?.runId).toBe(a.id);
    expect((await claimed!.done).status).toBe('succeeded');
    expect(b.runner.started).toEqual(['ship#1']);
  });

  it('a timeout rejects: the task fails, its dependants are skipped, the run fails', async () => {
    const { engine, store, id, clock, runner } = await parked('        timeout: 30m');
    await clock.sleep(29 * 60_000);
    expect((await engine.sweepApprovals()).rejected).toEqual([]);
    await clock.sleep(60_000);
    expect((await engine.sweepApprovals()).rejected).toEqual([`${id}/gate`]);
    expect(await store.getTask(id, 'gate')).toMatchObject({ state: 'failed', reason: 'approval_timed_out' });
    await expect(engine.approveTask(id, 'gate', { approver: 'alice', via: 'api' })).rejects.toMatchObject({
      code: 'task_not_waiting',
    });
    expect((await engine.execute(id)).status).toBe('failed');
    expect(await states(store, id)).toMatchObject({ gate: 'failed', ship: 'skipped' });
    expect(runner.started).toEqual(['build#1']);
  });

  it('a timeout escalates once: escalateTo may approve, and after one more window it rejects', async () => {
    const spec =
      '        reviewers: [alice]\n        timeout: 1h\n        onTimeout: escalate\n        escalateTo: { reviewers: [oncall] }';
    const { engine, store, id, clock } = await parked(spec);
    await expect(engine.approveTask(id, 'gate', { approver: 'oncall', via: 'api' })).rejects.toMatchObject({
      code: 'approver_not_allowed',
    });
    await clock.sleep(3_600_000);
    expect((await engine.sweepApprovals()).escalated).toEqual([`${id}/gate`]);
    expect((await engine.sweepApprovals()).escalated).toEqual([]);
    expect((await store.listLogs(id)).map((l) => l.text).join('\n')).toMatch(/escalated to oncall/);
    const ok = await engine.approveTask(id, 'gate', { approver: 'oncall', via: 'api' });
    expect(ok.run.status).toBe('queued');

    const other = await parked(spec);
    await other.clock.sleep(3_600_000);
    await other.engine.sweepApprovals();
    await other.clock.sleep(3_600_000);
    expect((await other.engine.sweepApprovals()).rejected).toEqual([`${other.id}/gate`]);
  });

  it('a run-level grant cannot release a run parked by an approval task', async () => {
    const { engine, id } = await parked();
    await expect(
      engine.approve(id, { by: 'alice', approvalDigest: `sha256:${'c'.repeat(64)}` }),
    ).rejects.toMatchObject({
      code: 'run_not_waiting',
    });
  });
});

describe('the span of an approval gate (maestro.approval)', () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
    'test',
  );
  const gateSpans = () => exporter.getFinishedSpans().filter((s) => s.name === 'maestro.approval');
  const ms = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;

  async function tracedPark(withBlock: string) {
    const s = setup(tempDir(), fakeClock(), tracer);
    const id = await s.engine.submit(manifest(withBlock), {
      actor: 'mallory',
      trust: 'trusted',
      traceParent: TRACEPARENT,
    });
    await s.engine.execute(id);
    return { ...s, id };
  }

  it('granted: from the wait to the last approval, in the run’s trace, settled by another engine', async () => {
    exporter.reset();
    const a = await tracedPark('        approvals: 2\n        reviewers: [alice, bob]');
    await a.clock.sleep(5 * 60_000);
    await a.engine.approveTask(a.id, 'gate', { approver: 'alice', via: 'api' });
    expect(gateSpans()).toEqual([]);
    await a.clock.sleep(5 * 60_000);
    // Another engine on the same data dir (a restart, another replica) ends the gate.
    const b = setup(a.dataDir, a.clock, tracer);
    await b.engine.approveTask(a.id, 'gate', { approver: 'bob', via: 'api' });
    await a.engine.sweepApprovals(); // a later settler finds nothing to end: still one span
    const [span, ...more] = gateSpans();
    expect(more).toEqual([]);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(ms(span!.duration)).toBe(10 * 60_000);
    expect(span!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span!.attributes).toEqual({
      'maestro.run.id': a.id,
      'maestro.workflow': 'deploy',
      'cicd.pipeline.name': 'deploy',
      'cicd.pipeline.run.id': a.id,
      'maestro.task.id': 'gate',
      'cicd.pipeline.task.name': 'gate',
      'maestro.approval.required': 2,
      'maestro.approval.received': 2,
      'maestro.approval.escalated': false,
      'maestro.approval.outcome': 'granted',
    });
    expect(JSON.stringify(span!.attributes)).not.toMatch(/alice|bob/);
  });

  it('timed out: an error span with error.type, once, after an escalation and one approval short', async () => {
    exporter.reset();
    const spec =
      '        approvals: 2\n        reviewers: [alice, bob]\n        timeout: 1h\n        onTimeout: escalate\n        escalateTo: { reviewers: [oncall] }';
    const { engine, id, clock } = await tracedPark(spec);
    await engine.approveTask(id, 'gate', { approver: 'alice', via: 'api' });
    await clock.sleep(3_600_000);
    expect((await engine.sweepApprovals()).escalated).toEqual([`${id}/gate`]);
    expect(gateSpans()).toEqual([]);
    await clock.sleep(3_600_000);
    expect((await engine.sweepApprovals()).rejected).toEqual([`${id}/gate`]);
    await engine.sweepApprovals();
    const [span, ...more] = gateSpans();
    expect(more).toEqual([]);
    expect([span!.spanContext().traceId, span!.parentSpanContext?.spanId]).toEqual([
      TRACE_ID,
      PARENT_SPAN_ID,
    ]);
    expect(ms(span!.duration)).toBe(2 * 3_600_000);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes).toMatchObject({
      'maestro.approval.required': 2,
      'maestro.approval.received': 1,
      'maestro.approval.escalated': true,
      'maestro.approval.outcome': 'timed_out',
      'error.type': 'approval_timed_out',
    });
  });
});

/** Writes a validly signed approval straight into the store, as an attacker with the key's output might. */
async function plant(
  store: AsyncStore,
  run: { id: string; namespace: string; workflow: string; planDigest: string },
  taskId: string,
  approver: string,
  override: Partial<{ planDigest: string; taskId: string; runId: string }> = {},
  by = signer,
): Promise<void> {
  const signed = await signTaskApproval(
    {
      runId: run.id,
      namespace: run.namespace,
      workflow: run.workflow,
      planDigest: run.planDigest,
      sourceSha: null,
      sourceRepo: null,
      taskId,
      approver,
      approvedAt: new Date().toISOString(),
      via: 'api',
      teams: [],
      ...override,
    },
    by,
  );
  await store.putTaskApproval({
    runId: run.id,
    taskId,
    kind: 'approval',
    approver,
    digest: signed.digest,
    bundle: signed.bundle,
    via: 'api',
    createdAt: Date.now(),
  });
}
