import { processIo } from './io.ts';
import { runCli } from './program.ts';

export { runCli } from './program.ts';
export { ExitCode } from './exit-codes.ts';
export type { CliIo } from './io.ts';
export { exampleWith, inputRows } from './task-inputs.ts';

export async function main(argv: string[]): Promise<number> {
  return runCli(argv, processIo());
}
