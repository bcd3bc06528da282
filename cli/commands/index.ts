import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerPolicy } from './policy.ts';
import { registerAudit } from './audit.ts';
import { registerRun } from './run.ts';
import { registerRuns } from './runs.ts';
import { registerReplay } from './replay.ts';
import { registerValidate } from './validate.ts';
import { registerCompile } from './compile.ts';
import { registerGraph } from './graph.ts';
import { registerVerify } from './verify.ts';
import { registerReceipts } from './receipts.ts';
import { registerDisclose } from './disclose.ts';
import { registerApp } from './app.ts';
import { registerServer } from './server.ts';
import { registerTokens } from './tokens.ts';
import { registerTasks } from './tasks.ts';
import { registerImage } from './image.ts';
import { registerSigDevServer } from './sig-dev-server.ts';

/** Every command registers itself here, one line each. */
export function registerCommands(program: Command, context: CliContext): void {
  registerPolicy(program, context);
  registerAudit(program, context);
  registerRun(program, context);
  registerRuns(program, context);
  registerReplay(program, context);
  registerValidate(program, context);
  registerCompile(program, context);
  registerGraph(program, context);
  registerVerify(program, context);
  registerReceipts(program, context);
  registerDisclose(program, context);
  registerApp(program, context);
  registerServer(program, context);
  registerTokens(program, context);
  registerTasks(program, context);
  registerImage(program, context);
  registerSigDevServer(program, context);
}
