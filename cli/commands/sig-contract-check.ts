import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode } from '../exit-codes.ts';
import type { CliContext } from '../context.ts';
import { checkContracts } from '../sig-contract-check.ts';

const EXAMPLES = `
Examples:
  $ maestro sig-contract-check                  # against the last release tag (v*), else main
  $ maestro sig-contract-check --base origin/main --format json

Exit 0: no breaking change. Exit 1: a change in schemas/sig/<contract>/vN/ breaks vN (it needs a
new major folder instead); each is listed with the oasdiff rule that found it.
The oasdiff binary: MAESTRO_OASDIFF, else ~/.cache/maestro/bin/oasdiff (scripts/setup/oasdiff.sh),
else oasdiff on PATH.`;

export function registerSigContractCheck(program: Command, context: CliContext): void {
  program
    .command('sig-contract-check')
    .description('Fail on a breaking change to the SIG contracts (schemas/sig) since a base ref')
    .option('--base <ref>', 'the ref to compare with (default: the last v* tag, else main)')
    .option('--repo <dir>', 'the repository', '.')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText('after', EXAMPLES)
    .action(async (o: { base?: string; repo: string; format: 'text' | 'json' }) => {
      const { io } = context;
      const cached = join(homedir(), '.cache/maestro/bin/oasdiff');
      const oasdiff = io.env.MAESTRO_OASDIFF ?? (existsSync(cached) ? cached : 'oasdiff');
      const result = await checkContracts({
        repoDir: join(io.cwd, o.repo),
        oasdiff,
        ...(o.base ? { base: o.base } : {}),
      });
      if (o.format === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else {
        io.stdout(`compared with ${result.base}: ${result.compared.join(', ') || 'nothing'}\n`);
        if (result.added.length > 0) io.stdout(`new majors (not compared): ${result.added.join(', ')}\n`);
        for (const b of result.breaking) io.stdout(`breaking ${b.document} [${b.rule}] ${b.text}\n`);
        io.stdout(
          result.breaking.length === 0
            ? 'no breaking change\n'
            : `${result.breaking.length} breaking change(s)\n`,
        );
      }
      if (result.breaking.length > 0) context.exitCode = ExitCode.inputErrors;
    });
}
