import { Option, type Command } from 'commander';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { openCliEngine } from '../open-engine.ts';

const EXAMPLES = `
Examples:
  $ maestro replay r-0f3c...                 # every task that succeeded
  $ maestro replay r-0f3c... --task build --format json

Each output and artifact is compared by sha256 with what the run recorded.
Exit codes: 0 all hash-equal, 1 something differs or a task failed on replay.`;

export function registerReplay(program: Command, context: CliContext): void {
  program
    .command('replay')
    .description("Re-execute a run's tasks with their recorded inputs and compare outputs by hash")
    .argument('<run>', 'run id')
    .option('--task <id>', 'only this task')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--data-dir <dir>', 'where runs are stored (default: MAESTRO_DATA_DIR)')
    .option('--secrets <file>', 'a NAME=value secrets file for local development')
    .addHelpText('after', EXAMPLES)
    .action(
      async (
        runId: string,
        o: { task?: string; format: 'text' | 'json'; dataDir?: string; secrets?: string },
      ) => {
        const { io } = context;
        const cli = await openCliEngine(o, io);
        try {
          const report = await cli.engine.replay(runId, o.task === undefined ? {} : { taskId: o.task });
          if (o.format === 'json') io.stdout(JSON.stringify(report, null, 2) + '\n');
          else {
            for (const t of report.tasks) {
              io.stdout(
                `${t.taskId} (attempt ${t.attempt}): ${t.outcome}${t.inputsEqual ? '' : ', inputs differ from the record'}${t.error ? `: ${t.error}` : ''}\n`,
              );
              for (const item of t.items)
                io.stdout(`  ${item.kind} ${item.name}: ${item.equal ? 'hash-equal' : 'different'}\n`);
            }
            io.stdout(report.equal ? 'replay: all hash-equal\n' : 'replay: differences found\n');
          }
          context.exitCode = report.equal ? ExitCode.ok : ExitCode.inputErrors;
        } finally {
          await cli.close();
        }
      },
    );
}
