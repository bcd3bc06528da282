import type { ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';

/** What every command receives: where to write, and where to leave its exit code. */
export interface CliContext {
  io: CliIo;
  exitCode: ExitCode;
}
