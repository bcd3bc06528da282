/**
 * Inside GitHub Actions, one line in the job summary says what the local runner's tasks run in
 * (the runtime chose `job-vm`: bubblewrap when it works there, else the job's VM is the sandbox).
 */
import { appendFileSync } from 'node:fs';
import type { LocalRunner } from '../runners/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { CliIo } from './io.ts';

export function noteSandboxInJobSummary(runtime: Runtime, io: CliIo): void {
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  const runner = runtime.runners.get('local') as LocalRunner | undefined;
  if (!summaryFile || !runner || runner.sandbox().mode !== 'job-vm') return;
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
