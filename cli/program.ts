import { Command, CommanderError } from 'commander';
import { describeError, isMaestroError, Fault, UsageError } from '../core/index.ts';
import { ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import type { CliContext } from './context.ts';
import { registerCommands } from './commands/index.ts';
import { packageVersion } from './package-version.ts';

/**
 * Builds the `maestro` program. Each command lives in its own file under `commands/` and sets
 * `context.exitCode`; errors thrown from an action are rendered here, once, without a stack.
 */
export async function buildProgram(
  context: CliContext,
  argv: readonly string[],
  all = false,
): Promise<Command> {
  const program = new Command('maestro')
    .description('Summit Maestro: GitOps pipeline-as-code. Compile, run, gate and prove workflows.')
    .version(packageVersion())
    // `maestro --version` is the program's; after a command's name the option is the command's
    // own (`maestro sbom query --version '^7'` is a semver range, not a request for ours).
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: context.io.stdout, writeErr: context.io.stderr })
    .exitOverride();
  await registerCommands(program, context, argv, all);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  const context: CliContext = { io, exitCode: ExitCode.ok };
  try {
    const program = await buildProgram(context, argv);
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr(`maestro: ${describeError(error)}\n`);
    if (error instanceof UsageError) return ExitCode.usage;
    if (isMaestroError(error) && error.fault === Fault.user) return ExitCode.inputErrors;
    return ExitCode.internal;
  }
}
