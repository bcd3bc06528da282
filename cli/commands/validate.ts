import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode } from '../exit-codes.ts';
import type { CliContext } from '../context.ts';
import { checkManifests, wantsColor } from '../manifest-files.ts';
import { renderTextReport } from '../format/render-text.ts';
import { renderJsonReport } from '../format/render-json.ts';
import { renderGithubReport } from '../format/render-github.ts';
import { findManifests } from '../../workspace/index.ts';
import { openServerClient } from '../server-client.ts';
import { serverCompiler } from '../server-compile.ts';
import { serverOption } from './runs-remote.ts';

const EXAMPLES = `
Examples:
  $ maestro validate .                                   # every manifest under the current directory
  $ maestro validate .maestro/workflows/deploy.yaml      # one file
  $ maestro validate examples --format json              # machine-readable
  $ maestro validate . --format github                   # annotations in a GitHub Actions step
  $ MAESTRO_TOKEN=mst_... maestro validate . --server https://maestro.example.com   # the server's verdict

A directory is searched at any depth (skipping node_modules and .git) for
.maestro/workflows/*.yaml|yml and .maestro/runbooks/*.yaml|yml; a file is taken as given.
Exit codes: 0 all valid (warnings allowed), 1 a manifest has errors, 2 usage error.`;

export function registerValidate(program: Command, context: CliContext): void {
  program
    .command('validate')
    .description('Check manifests and report every problem with its file, line and column')
    .argument('<paths...>', 'manifest files or directories to search')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'),
    )
    .addOption(serverOption())
    .addHelpText('after', EXAMPLES)
    .action(async (paths: string[], options: { format: 'text' | 'json' | 'github'; server?: string }) => {
      const { io } = context;
      // With --server the server compiles (dryRun: nothing is stored), with its own catalog.
      const compile =
        options.server === undefined
          ? undefined
          : await serverCompiler(
              openServerClient(options.server, io),
              findManifests(paths, { cwd: io.cwd }),
              {
                dryRun: true,
              },
            );
      const reports = await checkManifests(paths, io, compile);
      if (options.format === 'json') io.stdout(renderJsonReport(reports));
      else if (options.format === 'github') io.stdout(renderGithubReport(reports));
      else io.stdout(renderTextReport(reports, { color: wantsColor(io) }));
      context.exitCode = reports.every((r) => r.valid) ? ExitCode.ok : ExitCode.inputErrors;
    });
}
