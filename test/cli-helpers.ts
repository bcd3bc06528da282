import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliIo } from '../cli/index.ts';

/** A CliIo that records what a command prints, for in-process runs of `runCli`. */
export function captureIo(
  cwd: string,
  env: Record<string, string | undefined> = {},
): CliIo & {
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return {
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    isTty: false,
    env,
    cwd,
    out: () => out,
    err: () => err,
  };
}

/** captureIo with this process's PATH and HOME, as a user's shell hands them to `maestro`. */
export function shellIo(cwd: string, env: Record<string, string> = {}): ReturnType<typeof captureIo> {
  return captureIo(cwd, { PATH: process.env.PATH, HOME: process.env.HOME, ...env });
}

/** Runs `maestro <args>` in-process in `cwd` with `env` (and nothing else); its exit code and output. */
export async function runCaptured(
  args: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(cwd, env);
  const code = await runCli(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** Writes one workflow (`tasks`: its YAML task list) under `dir/wf/.maestro/workflows`; returns its path. */
export function writeWorkflow(dir: string, namespace: string, tasks: string): string {
  const folder = join(dir, 'wf', '.maestro', 'workflows');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'flow.yaml');
  writeFileSync(
    file,
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: flow, namespace: ${namespace} }
spec:
  defaults: { runner: local }
  tasks:
${tasks}`,
  );
  return file;
}
