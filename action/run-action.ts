import { info, setFailed, setOutput, summary } from '@actions/core';
import { describeError } from '../core/index.ts';
import { probeSandbox, type SandboxProbe } from '../runners/index.ts';
import { planToMermaid } from '../compiler/index.ts';
import { countDiagnostics, findManifests, toJsonReport, validateManifests } from '../workspace/index.ts';
import { annotate } from './annotate.ts';
import { readInputs, type ActionInputs } from './inputs.ts';
import { runMode } from './run-mode.ts';
import { actionCompiler } from './source-compiler.ts';
import { summaryMarkdown } from './summary.ts';
import { verifyMode } from './verify-mode.ts';
import type { ActionEnvironment } from './environment.ts';

export type { ActionEnvironment } from './environment.ts';

/** The summary's line on what local tasks run in on this job (runners/local, mode `job-vm`). */
export function sandboxNote(probe: SandboxProbe): string {
  return probe.ok
    ? 'Local runner: tasks on this job run in the bubblewrap sandbox (`sandbox: bwrap`).'
    : `Local runner: **sandbox: none** on this job: the GitHub Actions job VM is the sandbox (GitHub isolates the job and withholds secrets from forks); bubblewrap is not used: ${probe.reason}.`;
}

/**
 * The Action: mode `validate`, `run` or `verify` (action.yml). Never throws: every failure ends
 * in setFailed with a message a person can act on.
 */
export async function runAction(env: ActionEnvironment): Promise<void> {
  try {
    const inputs = readInputs({ cwd: env.cwd, runnerTemp: env.runnerTemp });
    if (inputs.mode === 'run') {
      if (env.hasSummary && env.inActions) await summary.addRaw(`${sandboxNote(probeSandbox())}\n\n`).write();
      await runMode(inputs, env);
    } else if (inputs.mode === 'verify') await verifyMode(inputs, env);
    else await validateMode(inputs, env);
  } catch (error) {
    setFailed(describeError(error));
  }
}

/**
 * Mode `validate`: check every manifest under the inputs' paths with the same code and the same
 * catalog as `maestro validate` (built-in, repository and locked catalog tasks), annotate each diagnostic, write the job summary, set outputs, and fail the
 * step on errors.
 */
async function validateMode(inputs: ActionInputs, env: ActionEnvironment): Promise<void> {
  const files = findManifests(inputs.paths, { cwd: env.cwd, root: env.workspace });
  const reports = validateManifests(files, await actionCompiler(files, env));
  annotate(reports);
  if (inputs.format === 'json') info(JSON.stringify(toJsonReport(reports), null, 2));
  else
    for (const r of reports)
      info(`${r.valid ? 'ok     ' : 'INVALID'} ${r.file}${r.plan ? `  ${r.plan.digest}` : ''}`);
  const counts = countDiagnostics(reports);
  setOutput('valid', counts.invalid === 0 ? 'true' : 'false');
  setOutput('errors', String(counts.errors));
  setOutput('warnings', String(counts.warnings));
  setOutput('files', String(counts.files));
  if (env.hasSummary) {
    await summary
      .addRaw(
        summaryMarkdown(
          reports,
          (r) => (r.plan ? planToMermaid(r.plan) : undefined),
          env.inActions ? sandboxNote(probeSandbox()) : undefined,
        ),
      )
      .write();
  }
  if (counts.invalid > 0)
    setFailed(
      `${counts.invalid} of ${counts.files} manifest(s) have errors (${counts.errors} error(s)); see the annotations`,
    );
}
