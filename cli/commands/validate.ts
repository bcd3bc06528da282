import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode } from '../exit-codes.ts';
import type { CliContext } from '../context.ts';
import { checkManifests, wantsColor } from '../manifest-files.ts';
import { renderTextReport } from '../format/render-text.ts';
import { renderJsonReport } from '../format/render-json.ts';
import { renderGithubReport } from '../format/render-github.ts';
import { findManifests } from '../../workspace/index.ts';
import { serverOption } from './server-option.ts';

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
      // With --server the server compiles (dryRun: nothing is stored), with its own catalog. Its
      // client (and the event-stream parser under it) loads only then: a local validate never needs it.
      const compile =
        options.server === undefined
          ? undefined
          : await (async (server: string) => {
              const [{ openServerClient }, { serverCompiler }] = await Promise.all([
                import('../server-client.ts'),
                import('../server-compile.ts'),
              ]);
              return serverCompiler(openServerClient(server, io), findManifests(paths, { cwd: io.cwd }), {
                dryRun: true,
              });
            })(options.server);
      const reports = await checkManifests(paths, io, compile);
      if (options.format === 'json') io.stdout(renderJsonReport(reports));
      else if (options.format === 'github') io.stdout(renderGithubReport(reports));
      else io.stdout(renderTextReport(reports, { color: wantsColor(io) }));
      context.exitCode = reports.every((r) => r.valid) ? ExitCode.ok : ExitCode.inputErrors;
    });
}
