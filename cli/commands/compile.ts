import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode } from '../exit-codes.ts';
import type { CliContext } from '../context.ts';
import { compileOne } from '../compile-one.ts';
import { renderPlanText } from '../format/render-plan.ts';

const EXAMPLES = `
Examples:
  $ maestro compile .maestro/workflows/deploy.yaml                 # the Plan as JSON
  $ maestro compile .maestro/workflows/deploy.yaml --format text   # digest, tasks in order, edges
  $ maestro compile deploy.yaml | jq -r .digest                    # just the content digest

Errors are printed to stderr like \`maestro validate\` prints them, and the exit code is 1.`;

export function registerCompile(program: Command, context: CliContext): void {
  program
    .command('compile')
    .description('Compile one manifest into its Plan (digest, tasks in topological order, edges)')
    .argument('<file>', 'the manifest file')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('json'))
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, options: { format: 'json' | 'text' }) => {
      const plan = await compileOne(file, context.io);
      if (!plan) {
        context.exitCode = ExitCode.inputErrors;
        return;
      }
      context.io.stdout(
        options.format === 'text' ? renderPlanText(plan) : JSON.stringify(plan, null, 2) + '\n',
      );
    });
}
