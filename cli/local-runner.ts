/**
 * The CLI's local runner, with its sandbox settings: the runners config's `local` section, and
 * the paths no task may see even under the read-only installation it reads catalog tasks from
 * (the data directory, the secrets file, the signing keys).
 */
import { appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { baseEnvFrom, createLocalRunner, type LocalRunner } from '../runners/index.ts';
import type { CliIo } from './io.ts';
import type { LocalRunnerConfig } from './runners-config.ts';

export interface CliLocalRunnerOptions {
  dataDir: string;
  /** The secrets file in use, if any: never visible to a task, wherever it lies. */
  secretsFile?: string;
  config: LocalRunnerConfig;
}

export function createCliLocalRunner(options: CliLocalRunnerOptions, io: CliIo): LocalRunner {
  const keys = [io.env.MAESTRO_SIGNING_KEY, io.env.MAESTRO_APPROVAL_SIGNING_KEY]
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .map((p) => resolve(io.cwd, p));
  // Inside GitHub Actions the job's VM is the sandbox (GitHub isolates each job and withholds
  // secrets from forks): bubblewrap when it works there, else none, said in the job summary.
  const inActions = io.env.GITHUB_ACTIONS === 'true';
  const sandbox = options.config.sandbox ?? (inActions ? 'job-vm' : 'bwrap');
  const runner = createLocalRunner({
    baseEnv: baseEnvFrom(io.env),
    sandbox,
    hiddenPaths: [
      options.dataDir,
      join(options.dataDir, 'secrets.env'),
      ...(options.secretsFile ? [resolve(io.cwd, options.secretsFile)] : []),
      ...keys,
      ...keys.map((k) => dirname(k)),
    ],
    ...(options.config.network ? { network: options.config.network } : {}),
  });
  if (sandbox === 'job-vm' && io.env.GITHUB_STEP_SUMMARY)
    noteInJobSummary(runner, io.env.GITHUB_STEP_SUMMARY);
  return runner;
}

/** One line in the job summary: what the local runner's tasks run in on this job. */
function noteInJobSummary(runner: LocalRunner, summaryFile: string): void {
  const { probe } = runner.sandbox();
  const line = probe.ok
    ? '- Maestro local runner: tasks run in the bubblewrap sandbox (`sandbox: bwrap`).\n'
    : `- Maestro local runner: **sandbox: none** — the GitHub Actions job VM is the sandbox; bubblewrap is not used (${probe.reason}).\n`;
  try {
    appendFileSync(summaryFile, line);
  } catch {
    // a summary that cannot be written must not stop the run; the task logs say the same
  }
}
