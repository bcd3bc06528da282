import type { Command } from 'commander';
import { Option } from 'commander';
import { planToDot, planToMermaid } from '../../compiler/index.ts';
import { ExitCode } from '../exit-codes.ts';
import type { CliContext } from '../context.ts';
import { compileOne } from '../compile-one.ts';

const EXAMPLES = `
Examples:
  $ maestro graph .maestro/workflows/deploy.yaml                    # Mermaid flowchart
  $ maestro graph .maestro/workflows/deploy.yaml --format dot | dot -Tsvg > dag.svg`;

export function registerGraph(program: Command, context: CliContext): void {
  program
    .command('graph')
    .description("Draw a manifest's task graph (DAG) as Mermaid or Graphviz dot")
    .argument('<file>', 'the manifest file')
    .addOption(
      new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'),
    )
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, options: { format: 'mermaid' | 'dot' }) => {
      const plan = await compileOne(file, context.io);
      if (!plan) {
        context.exitCode = ExitCode.inputErrors;
        return;
      }
      const text = options.format === 'dot' ? planToDot(plan) : planToMermaid(plan);
      context.io.stdout(text.endsWith('\n') ? text : text + '\n');
    });
}
