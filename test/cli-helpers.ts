import type { CliIo } from '../cli/index.ts';

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
