/**
 * One protocol, two SDKs: the runner contract's reporter task, written once with the TypeScript
 * SDK (test/runner-contract/sdk-task.ts) and once with the Python SDK (sdk_task.py), run the way a
 * runner starts them, must leave the same bytes behind: the same messages (but for their `time`),
 * the same fallback outputs file and stderr lines without $MAESTRO_MESSAGES (but for the random
 * delimiters), and the same failure lines and exit code when a secret is missing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../sdk/index.ts';
import { reporter } from './runner-contract/sdk-task.ts';
import { pythonTools, runPython } from './setup/python-tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-sdk-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SDK_SOURCE = join(import.meta.dirname, '..', 'sdk', 'python', 'src');
const PY_TASK = join(import.meta.dirname, 'runner-contract', 'sdk_task.py');

interface Left {
  code: number;
  file: string;
  stderr: string;
}

/** Runs both SDKs' reporter with `env` and a fresh empty file for `fileVariable`. */
async function both(env: Record<string, string>, fileVariable: string): Promise<[Left, Left]> {
  const tsFile = join(dir, `ts-${fileVariable}`);
  const pyFile = join(dir, `py-${fileVariable}`);
  writeFileSync(tsFile, '');
  writeFileSync(pyFile, '');
  let tsErr = '';
  const tsCode = await runMain(
    reporter,
    { ...env, [fileVariable]: tsFile },
    { onTerminate: () => {}, stdout: () => {}, stderr: (t) => void (tsErr += t) },
  );
  process.exitCode = 0;
  const py = await runPython(pythonTools().bin('python'), [PY_TASK], {
    env: { ...env, [fileVariable]: pyFile, PYTHONPATH: SDK_SOURCE, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return [
    { code: tsCode, file: readFileSync(tsFile, 'utf8'), stderr: tsErr },
    { code: py.code, file: readFileSync(pyFile, 'utf8'), stderr: py.stderr },
  ];
}

const inputs = JSON.stringify({ answer: '42' });

describe('the TypeScript and Python SDKs speak the protocol byte for byte alike', () => {
  it('the same messages in $MAESTRO_MESSAGES, but for their time', async () => {
    const [ts, py] = await both({ MAESTRO_INPUTS: inputs, TOKEN: 't0k' }, 'MAESTRO_MESSAGES');
    // Byte for byte, key order included; only the clock's reading differs.
    const untimed = (text: string) => text.replace(/,"time":\d+\}$/gm, ',"time":T}');
    expect(py.code).toBe(0);
    expect(ts.code).toBe(0);
    expect(untimed(py.file)).toEqual(untimed(ts.file));
    expect(untimed(py.file).split('\n').filter(Boolean)).toHaveLength(5); // log, metric, heartbeat, two outputs
    expect(untimed(py.file)).toContain(
      '{"v":1,"type":"output","name":"notes","value":"line one\\nline=two","time":T}',
    );
    expect([py.stderr, ts.stderr]).toEqual(['', '']);
  });

  it('without $MAESTRO_MESSAGES: the same outputs file (but for the delimiters) and stderr lines', async () => {
    const [ts, py] = await both({ MAESTRO_INPUTS: inputs, TOKEN: 't0k' }, 'MAESTRO_OUTPUT');
    const undelimited = (text: string) => text.replace(/MAESTRO_[0-9a-f]{24}/g, 'DELIMITER');
    expect(undelimited(py.file)).toBe(undelimited(ts.file));
    expect(undelimited(py.file)).toContain('notes<<DELIMITER\nline one\nline=two\nDELIMITER\n');
    expect(py.stderr).toBe(ts.stderr);
    expect(py.stderr).toBe('reporting 42 with t0k\nmetric rows=3\nheartbeat\n');
  });

  it('the same failure lines and exit code when a secret is missing', async () => {
    const [ts, py] = await both({ MAESTRO_INPUTS: inputs }, 'MAESTRO_MESSAGES');
    expect(py.code).toBe(1);
    expect(ts.code).toBe(1);
    expect(py.stderr).toBe(ts.stderr);
    expect(py.stderr).toBe(
      'contract-reporter [secret_missing]: contract-reporter needs the secret TOKEN, which it was not given\n' +
        "hint: pass it in the task's env: TOKEN: ${{ secrets.TOKEN }}\n",
    );
  });
});
