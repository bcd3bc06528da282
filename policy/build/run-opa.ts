import { execFile } from 'node:child_process';

export interface OpaRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the opa binary with arguments (never through a shell) and collects its output. */
export function runOpa(opa: string, args: string[], cwd: string): Promise<OpaRun> {
  return new Promise((resolve, reject) => {
    execFile(opa, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}
