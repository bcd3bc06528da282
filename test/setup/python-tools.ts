/**
 * The Python SDK's tools, made by scripts/setup/python.sh: a virtual environment of the system's
 * Python (/usr/bin/python3) at ~/.cache/maestro/python-tools with pypiserver, twine, build,
 * hatchling, jsonschema and pytest pinned, and ~/.cache/maestro/python-wheels, the SDK's runtime
 * dependencies as wheels. Fails loudly (never skips) when setup has not run.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const SETUP_HINT = 'run `bash scripts/setup/python.sh` (makes ~/.cache/maestro/python-tools)';

export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface PythonTools {
  /** A program of the tools environment: `python`, `pypi-server`, `twine`. */
  bin(name: string): string;
  /** The SDK's dependencies as wheel files (jsonschema and what it needs). */
  wheelsDir: string;
  wheels(): string[];
}

export function pythonTools(): PythonTools {
  const cache = join(homedir(), '.cache', 'maestro');
  const venv = join(cache, 'python-tools');
  const wheelsDir = join(cache, 'python-wheels');
  if (!existsSync(join(venv, 'bin', 'python')) || !existsSync(wheelsDir))
    throw new Error(`the Python tools are not installed at ${venv}: ${SETUP_HINT}`);
  return {
    bin: (name) => join(venv, 'bin', name),
    wheelsDir,
    wheels: () =>
      readdirSync(wheelsDir)
        .filter((f) => f.endsWith('.whl'))
        .map((f) => join(wheelsDir, f)),
  };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Python tool with only the environment given (plus PATH and HOME): the machine's PIP_*
 * settings (a find-links directory, a mirror) must not decide what a test installs.
 */
export function runPython(
  file: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
