import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { info, setFailed, setOutput, summary, warning } from '@actions/core';
import { describeError, systemClock, UsageError, type Plan } from '../core/index.ts';
import { planToMermaid } from '../compiler/index.ts';
import { exportReceipts, gatherDisclosure } from '../engine/index.ts';
import { packDisclosure } from '../provenance/index.ts';
import { builtinCatalog, findManifests, resolveRunSource, validateManifests } from '../workspace/index.ts';
import { annotate } from './annotate.ts';
import { embeddedCatalog } from './embedded-catalog.ts';
import type { ActionInputs } from './inputs.ts';
import { openActionEngine, type ActionEngine } from './open-engine.ts';
import { runSummaryMarkdown, type RunResult } from './run-summary.ts';
import { actionCompiler } from './source-compiler.ts';
import { runTrustFromEvent } from './run-trust.ts';
import type { ActionEnvironment } from './environment.ts';

/**
 * Mode `run`: validate and compile the chosen workflows, run each on this job's machine with the
 * engine `maestro run` uses, write every run's receipts and a disclosure bundle under
 * `receipts-dir` (the workflow uploads them; the Action uploads nothing), the job summary and the
 * outputs. The step fails when a manifest is invalid or a run does not succeed.
 */
export async function runMode(inputs: ActionInputs, env: ActionEnvironment): Promise<void> {
  const plans = await compileWorkflows(inputs, env);
  if (!plans) return;
  const vars = env.env;
  const catalog = await builtinCatalog(embeddedCatalog());
  const opened = await openActionEngine({
    cwd: env.cwd,
    defaultDataDir: join(env.runnerTemp, 'maestro-data'),
    catalog,
    env: vars,
  });
  const trust = runTrustFromEvent(vars['GITHUB_EVENT_NAME'], vars['GITHUB_EVENT_PATH']);
  const results: RunResult[] = [];
  try {
    for (const { file, path, plan } of plans)
      results.push(await runOne(opened, { file, path, plan }, inputs, env, trust));
  } finally {
    await opened.close();
  }
  const failed = results.filter((r) => r.run.status !== 'succeeded');
  setOutput('run-id', results.map((r) => r.run.id).join('\n'));
  setOutput('status', failed.length === 0 ? 'succeeded' : 'failed');
  setOutput('receipts-dir', inputs.receiptsDir);
  if (env.hasSummary) {
    const notes = [
      `Trust: \`${trust}\`${trust === 'untrusted' ? ' (a pull request from a fork: no task has the network)' : ''}.`,
      ...(opened.signer?.warning ? [`Receipts ${opened.signer.warning}.`] : []),
      ...(opened.signer ? [] : ['Receipts: none (`MAESTRO_PROVENANCE=off`).']),
      `Runners on this job: ${opened.runnerKinds.join(', ')}.`,
    ];
    await summary.addRaw(runSummaryMarkdown(results, planToMermaid, notes)).write();
  }
  if (failed.length > 0)
    setFailed(
      failed
        .map((r) => `run ${r.run.id} (${r.plan.workflow.namespace}/${r.plan.workflow.name}) ${r.run.status}`)
        .join('; '),
    );
}

interface Chosen {
  file: string;
  path: string;
  plan: Plan;
}

/** The Workflow manifests to run, compiled; undefined (step failed, annotated) when any is invalid. */
async function compileWorkflows(inputs: ActionInputs, env: ActionEnvironment): Promise<Chosen[] | undefined> {
  const explicit = inputs.workflows.length > 0;
  const files = findManifests(explicit ? inputs.workflows : inputs.paths, {
    cwd: env.cwd,
    root: env.workspace,
  });
  const reports = validateManifests(files, await actionCompiler(files, env));
  annotate(reports);
  const invalid = reports.filter((r) => !r.valid);
  if (invalid.length > 0) {
    setOutput('status', 'failed');
    setFailed(
      `${invalid.length} manifest(s) have errors, nothing was run: ${invalid.map((r) => r.file).join(', ')}`,
    );
    return undefined;
  }
  const chosen: Chosen[] = [];
  reports.forEach((r, i) => {
    if (!r.plan) return;
    if (r.plan.workflow.kind !== 'Workflow') {
      if (explicit)
        throw new UsageError(`input "workflow": ${r.file} is a ${r.plan.workflow.kind}, not a Workflow`);
      return;
    }
    chosen.push({ file: r.file, path: files[i]!.path, plan: r.plan });
  });
  if (chosen.length === 0)
    throw new UsageError(
      `no Workflow manifest to run under: ${(explicit ? inputs.workflows : inputs.paths).join(', ')}`,
      {
        hint: 'name it with the `workflow` input, e.g. workflow: .maestro/workflows/ci.yaml',
      },
    );
  return chosen;
}

async function runOne(
  opened: ActionEngine,
  chosen: Chosen,
  inputs: ActionInputs,
  env: ActionEnvironment,
  trust: 'trusted' | 'untrusted',
): Promise<RunResult> {
  const { engine, store, dataDir } = opened;
  // The source is the git repository holding the manifest at HEAD: actions/checkout's commit.
  const resolved = await resolveRunSource({
    manifestPath: chosen.path,
    dataDir,
    cwd: env.cwd,
    baseEnv: { PATH: env.env['PATH'], HOME: env.env['HOME'] },
  });
  info(resolved.note);
  const runId = await engine.submit(chosen.plan, {
    params: inputs.params,
    trigger: 'github-action',
    actor: `github:${env.env['GITHUB_ACTOR'] ?? 'unknown'}`,
    source: resolved.source,
    trust,
  });
  info(`run ${runId} (${chosen.plan.workflow.namespace}/${chosen.plan.workflow.name})`);
  const run = await engine.execute(runId);
  info(`run ${runId} ${run.status}`);
  const dir = join(inputs.receiptsDir, runId);
  const receipts = await exportReceipts(store, runId, join(dir, 'receipts'));
  const disclosureError = await writeDisclosure(opened, runId, join(dir, 'disclosure.tgz'));
  return {
    file: chosen.file,
    plan: chosen.plan,
    run,
    tasks: await store.listTasks(runId),
    attempts: await store.listAttempts(runId),
    receiptsDir: dir,
    receipts,
    ...(disclosureError ? { disclosureError } : {}),
  };
}

/** The run's disclosure bundle (as `maestro disclose`); a failure is reported, not fatal. */
async function writeDisclosure(
  opened: ActionEngine,
  runId: string,
  file: string,
): Promise<string | undefined> {
  if (!opened.signer) return 'provenance is off (MAESTRO_PROVENANCE=off)';
  try {
    const input = await gatherDisclosure(opened.store, runId, {
      dataDir: opened.dataDir,
      now: systemClock.now(),
    });
    writeFileSync(file, await packDisclosure(input, opened.signer));
    return undefined;
  } catch (error) {
    const message = describeError(error);
    warning(`run ${runId}: disclosure bundle not written: ${message}`);
    return message;
  }
}
