import type { Command } from 'commander';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../../core/index.ts';
import { sdkNodeArgs } from '../../tasks/index.ts';
import type { CliContext } from '../context.ts';
import type { ExamplesReport } from '../task-examples.ts';
import { ExitCode } from '../exit-codes.ts';

const EXAMPLES = `
Examples:
  $ maestro tasks test .maestro/tasks/release-notes
  $ maestro tasks test tasks/http --format json

Runs every <dir>/examples/*.json through the in-process harness (the SDK's runTask), each in a
fresh temporary workspace. An example is
  { "description": "…", "inputs": {…}, "secrets": {…}, "state": …, "files": { "in.csv": "…" },
    "expect": { "outcome": "succeeded", "outputs": {…}, "logs": ["…"], "errors": ["/name"] } }
(expect.outcome defaults to succeeded; only the outputs named are compared). The task is the
value the entry (task.json "entry", default index.ts) exports from defineTask. Exit 1 when an
example fails.`;

/** `maestro tasks test <dir>`: a task's examples are its tests. */
export function registerTasksTest(tasks: Command, context: CliContext): void {
  tasks
    .command('test')
    .description("Run a task's examples (<dir>/examples/*.json) through the in-process harness")
    .argument('<dir>', 'the task folder (task.json, its entry, examples/)')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', EXAMPLES)
    .action(async (dirArg: string, options: { format: string }) => {
      const dir = resolve(context.io.cwd, dirArg);
      const { task, results } = await runExamplesApart(dir);
      const failed = results.filter((r) => !r.ok).length;
      if (options.format === 'json')
        context.io.stdout(
          JSON.stringify({ task, passed: results.length - failed, failed, results }, null, 2) + '\n',
        );
      else {
        for (const r of results) {
          context.io.stdout(
            `${r.ok ? 'ok  ' : 'FAIL'}  ${r.example}${r.description ? `  ${r.description}` : ''}\n`,
          );
          for (const p of r.problems) context.io.stdout(`      ${p}\n`);
        }
        context.io.stdout(`${task}: ${results.length - failed} passed, ${failed} failed\n`);
      }
      if (failed > 0) context.exitCode = ExitCode.inputErrors;
    });
}

/**
 * The examples run in a child Node (with the SDK hook, as the task runs on a runner): a task's
 * top-level code cannot touch the CLI's process, and `import '@summit-maestro/sdk'` resolves
 * however the CLI itself was loaded.
 */
async function runExamplesApart(dir: string): Promise<Extract<ExamplesReport, { task: string }>> {
  const child = fileURLToPath(
    new URL(import.meta.url.endsWith('.ts') ? '../task-examples.ts' : '../task-examples.js', import.meta.url),
  );
  const stdout = await new Promise<string>((resolvePromise, reject) =>
    execFile(
      process.execPath,
      [...sdkNodeArgs(), child, dir],
      { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 },
      (error, out) => (out ? resolvePromise(out) : reject(error ?? new Error('no report'))),
    ),
  );
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ExamplesReport;
  if ('error' in report)
    throw report.error.usage
      ? new UsageError(report.error.message, { hint: report.error.hint })
      : new InputError(report.error.code, report.error.message, { hint: report.error.hint });
  return report;
}
