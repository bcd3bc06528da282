/**
 * The messages case again, for a task written with the Python SDK (sdk_task.py): on a runner
 * whose tasks are host programs (local), it runs as itself, under the system's Python in a
 * virtual environment made in the attempt's workspace (jsonschema installed there from the
 * setup's wheels, offline; the SDK from this checkout, which the sandbox binds read-only); where
 * the runner's image has no Python (the container runner's busybox) the SDK's own bytes, made by
 * run_main in the test, are written by the task's shell; on Kubernetes (nothing executes, no
 * $MAESTRO_MESSAGES yet) they are the termination message.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunnerStartRequest } from '../../core/index.ts';
import { pythonTools, runPython, SYSTEM_PYTHON } from '../setup/python-tools.ts';
import type { ContractTarget } from './target.ts';

const SDK_SOURCE = join(import.meta.dirname, '..', '..', 'sdk', 'python', 'src');
const TASK = join(import.meta.dirname, 'sdk_task.py');

export const PYTHON_CASE = {
  node: 'the task runs as itself, under the system Python in a venv in its workspace',
  shell:
    "the test image has no Python: the SDK's messages, made by run_main in the test, are written by the task's shell",
  simulated:
    "not executable here, and Kubernetes does not set $MAESTRO_MESSAGES yet: the SDK's fallback into $MAESTRO_OUTPUT, made by run_main in the test, is the termination message",
} as const;

/** What sdk_task.py writes when run_main runs it here: its messages file, or its outputs file. */
async function pythonReport(inputs: unknown, token: string, messagesFile: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-contract-py-'));
  try {
    const file = join(dir, 'report');
    writeFileSync(file, '');
    const ran = await runPython(pythonTools().bin('python'), [TASK], {
      env: {
        PYTHONPATH: SDK_SOURCE,
        PYTHONDONTWRITEBYTECODE: '1',
        MAESTRO_INPUTS: JSON.stringify(inputs),
        TOKEN: token,
        ...(messagesFile ? { MAESTRO_MESSAGES: file } : { MAESTRO_OUTPUT: file }),
      },
    });
    expect(ran.code, ran.stderr).toBe(0);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A venv of the system's Python in the attempt's workspace, with jsonschema from the setup's wheels. */
async function venvIn(workDir: string): Promise<string> {
  const venv = join(workDir, '.venv');
  const made = await runPython(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', venv]);
  expect(made.code, made.stderr).toBe(0);
  const tools = pythonTools();
  const installed = await runPython(tools.bin('python'), [
    '-m',
    'pip',
    '--python',
    join(venv, 'bin', 'python'),
    '--isolated',
    '--disable-pip-version-check',
    'install',
    '--no-index',
    '--find-links',
    tools.wheelsDir,
    'jsonschema',
  ]);
  expect(installed.code, installed.stderr).toBe(0);
  return join(venv, 'bin', 'python');
}

/** The start request of the Python messages case on `target`. */
export async function pythonSdkRequest(
  target: ContractTarget,
  inputs: unknown,
  token: string,
  overrides: Partial<RunnerStartRequest>,
): Promise<RunnerStartRequest> {
  if (target.sdkTask === 'node') {
    const req = target.request({ script: '', sim: {} }, overrides);
    req.command = { kind: 'argv', argv: [await venvIn(req.workDir), TASK] };
    req.env.PYTHONPATH = SDK_SOURCE;
    req.env.PYTHONDONTWRITEBYTECODE = '1';
    req.env.MAESTRO_INPUTS = JSON.stringify(inputs);
    return req;
  }
  const made = await pythonReport(inputs, token, target.messagesFile);
  const variable = target.messagesFile ? 'MAESTRO_MESSAGES' : 'MAESTRO_OUTPUT';
  return target.request(
    {
      script: `cat >> "$${variable}" <<'SDK_REPORT'\n${made}SDK_REPORT`,
      sim: { SIM_RUN_FOR: '300ms', SIM_TERMINATION_MESSAGE: made },
    },
    overrides,
  );
}
