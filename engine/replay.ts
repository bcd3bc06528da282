/**
 * Replay: re-executes a finished run's tasks with the inputs they were recorded with (the run's
 * params, the recorded upstream outputs, the same secrets) and reports, per output and artifact,
 * whether the new value is hash-equal to the recorded one. The run itself is not changed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Digest, describeError, type AttemptResult } from '../core/index.ts';
import { collectArtifacts, contentStoreDir, stageInputs } from './artifact-flow.ts';
import { digestArtifacts } from './artifacts.ts';
import { producersOf } from './attempt-dirs.ts';
import { layerWorkspace } from './workspace-layer.ts';
import type { EngineContext } from './context.ts';
import { recordedInputs, resolveTask, type DispatchContext } from './dispatch.ts';
import { createRedactor, redactRecord } from '../core/index.ts';
import type { RunRecord } from './store/store.ts';

export interface ReplayItem {
  name: string;
  kind: 'output' | 'artifact';
  recorded: string | null;
  replayed: string | null;
  equal: boolean;
}

export interface ReplayTaskReport {
  taskId: string;
  attempt: number;
  /** The re-resolved inputs equal the recorded ones (secrets compared redacted). */
  inputsEqual: boolean;
  outcome: string;
  items: ReplayItem[];
  error?: string;
}

export interface ReplayReport {
  runId: string;
  tasks: ReplayTaskReport[];
  /** Every replayed task succeeded and every output and artifact is hash-equal. */
  equal: boolean;
}

function compare(
  kind: ReplayItem['kind'],
  recorded: Record<string, string>,
  replayed: Record<string, string>,
): ReplayItem[] {
  const names = [...new Set([...Object.keys(recorded), ...Object.keys(replayed)])].sort();
  return names.map((name) => {
    const a = recorded[name] ?? null;
    const b = replayed[name] ?? null;
    return { name, kind, recorded: a, replayed: b, equal: a !== null && a === b };
  });
}

export async function replayRun(ctx: EngineContext, run: RunRecord, taskId?: string): Promise<ReplayReport> {
  const { store } = ctx;
  const plans = new Map(run.plan.tasks.map((t) => [t.id, t]));
  if (taskId !== undefined) await store.getTask(run.id, taskId);
  // Resolution is synchronous: every successful task's outputs are read first.
  const outputs = new Map<string, Record<string, string>>();
  for (const task of run.plan.tasks) outputs.set(task.id, await store.taskOutputs(run.id, task.id));
  const dispatch: DispatchContext = {
    runId: run.id,
    workflow: { name: run.workflow, namespace: run.namespace },
    params: run.params,
    // As in the run (run-inputs.ts): an untrusted run's tasks get no secrets.
    secrets: run.trust === 'trusted' ? ctx.secrets : {},
    outputsOf: (id) => outputs.get(id) ?? {},
    declaredIdOf: (id) => plans.get(id)?.declaredId ?? id,
    catalog: ctx.catalog,
    nodePath: ctx.nodePath,
    taskNodeArgs: ctx.taskNodeArgs,
  };
  const reports: ReplayTaskReport[] = [];
  for (const task of run.plan.tasks) {
    if (taskId !== undefined && task.id !== taskId) continue;
    const recorded = (await store.listAttempts(run.id, task.id))
      .filter((a) => a.outcome === 'succeeded' || a.outcome === 'cached')
      .at(-1);
    if (!recorded) continue;
    reports.push(await replayTask(ctx, run, task.id, dispatch, recorded));
  }
  return {
    runId: run.id,
    tasks: reports,
    equal: reports.every((r) => r.outcome === 'succeeded' && r.inputsEqual && r.items.every((i) => i.equal)),
  };
}

async function replayTask(
  ctx: EngineContext,
  run: RunRecord,
  taskId: string,
  dispatch: DispatchContext,
  recorded: {
    attempt: number;
    inputs: Record<string, unknown>;
    outputs: Record<string, string>;
    artifactsDir: string;
  },
): Promise<ReplayTaskReport> {
  const plan = run.plan.tasks.find((t) => t.id === taskId)!;
  const base: ReplayTaskReport = {
    taskId,
    attempt: recorded.attempt,
    inputsEqual: false,
    outcome: 'runner_error',
    items: [],
  };
  let result: AttemptResult;
  const dir = join(
    ctx.dataDir,
    'replay',
    run.id,
    taskId.replace(/[^A-Za-z0-9._-]+/g, '_'),
    String(ctx.clock.now()),
  );
  try {
    const resolved = resolveTask(plan, dispatch);
    const redact = createRedactor([...resolved.redact, ...Object.values(ctx.secrets)]);
    const inputs = recordedInputs(resolved, redact);
    base.inputsEqual = sha256Digest(JSON.stringify(inputs)) === sha256Digest(JSON.stringify(recorded.inputs));
    const runner = ctx.runners.get(plan.runner);
    if (!runner) throw new Error(`no runner named ${plan.runner}`);
    // A host step acts on the host (kills a process, uses a socket): replaying it would act again.
    if (plan.hostAccess === true)
      throw new Error(
        `task ${taskId} needs host access (hostAccess: true): replay does not run host steps again`,
      );
    // The same workspace and inputs as the recorded attempt: the source at the run's commit and
    // the artifacts its needs kept; then the declared artifacts are kept to compare.
    const sourceDir = run.source && ctx.source ? await ctx.source.export(run.source) : undefined;
    mkdirSync(dir, { recursive: true });
    if (sourceDir) layerWorkspace(sourceDir, join(dir, 'work'));
    else mkdirSync(join(dir, 'work'));
    mkdirSync(join(dir, 'in'));
    const planOf = (id: string) => run.plan.tasks.find((t) => t.id === id)!;
    stageInputs(await producersOf(ctx.store, run.id, plan, planOf), join(dir, 'in'));
    const handle = await runner.start({
      runId: run.id,
      taskId,
      attempt: recorded.attempt,
      attemptId: `replay-${sha256Digest(dir).slice(7, 27)}`,
      command: resolved.command,
      env: resolved.env,
      redact: resolved.redact,
      workDir: join(dir, 'work'),
      artifactsDir: join(dir, 'in'),
      resources: plan.resources,
      namespace: run.namespace,
      outputs: plan.outputs,
      ...(resolved.image ? { image: resolved.image } : {}),
      ...(plan.timeoutMs === undefined ? {} : { timeoutMs: plan.timeoutMs }),
      // A replay runs with the run's own trust and the task's own network, as the original did.
      trust: run.trust,
      ...(plan.network === 'none' ? { network: 'none' as const } : {}),
    });
    for await (const _line of handle.logs()) {
      // Replay compares results; its logs are not kept.
    }
    result = await handle.wait();
    const store = contentStoreDir(ctx.dataDir);
    collectArtifacts(join(dir, 'work'), plan.artifacts ?? [], join(dir, 'artifacts'), store, () => {});
    const outputs = redactRecord(result.outputs, redact);
    const hash = (record: Record<string, string>) =>
      Object.fromEntries(Object.entries(record).map(([k, v]) => [k, sha256Digest(v)]));
    const files = (d: string) => Object.fromEntries(digestArtifacts(d).map((f) => [f.path, f.digest]));
    return {
      ...base,
      outcome: result.outcome,
      items: [
        ...compare('output', hash(recorded.outputs), hash(outputs)),
        ...compare('artifact', files(recorded.artifactsDir), files(join(dir, 'artifacts'))),
      ],
    };
  } catch (error) {
    return { ...base, error: ctx.redactAll(describeError(error)) };
  }
}
