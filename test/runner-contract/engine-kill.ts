/**
 * The engine-kill case's harness: the runner lives in a child process (engine-child.ts) that
 * starts one attempt and is SIGKILLed while it runs, as `kill -9` of `maestro` would. A witness
 * on 127.0.0.1 is given to the task as $REPORT (sandboxed tasks cannot write a host file).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RunnerStartRequest } from '../../core/index.ts';
import { startWitness, type Witness } from '../helpers/witness.ts';
import type { ContractTarget, Program } from './target.ts';

const root = join(import.meta.dirname, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');

export async function killEngineMidAttempt(
  target: ContractTarget,
  program: Program,
  env: Record<string, string> = {},
): Promise<{ request: RunnerStartRequest; witness: Witness }> {
  const witness = await startWitness();
  const request = target.request(program, {
    env: { ...env, REPORT: witness.report('beat') },
    outputs: ['answer'],
  });
  const child = spawn(
    node,
    [
      join(import.meta.dirname, 'engine-child.ts'),
      JSON.stringify({ kind: target.kind, section: target.section(), request }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the engine child never ran the task:\n${out}`)), 60_000);
    const check = () => {
      if (!out.includes('running\n') && child.exitCode === null) return;
      clearTimeout(timer);
      if (out.includes('running\n')) resolve();
      else reject(new Error(`engine child exited:\n${out}`));
    };
    child.stdout.on('data', check);
    child.once('exit', check);
  });
  child.kill('SIGKILL');
  await exited;
  return { request, witness };
}
