/**
 * The host-access grant, end to end through `maestro run` (issue 16, Runbooks): a step that says
 * `hostAccess: true` runs on the host only where the operator granted it in the runners config
 * (`local: { hostAccess: granted }`), and its log and signed receipt say so. The attack: a
 * manifest's step asks for the host (here: to write a file outside its workspace, where a host
 * step of a runbook would kill a process) on a runner without the grant. It is refused before
 * it starts, with `sandbox: none` too (which is not a grant), and nothing of it runs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { shellIo, writeWorkflow } from './cli-helpers.ts';

const root = join(import.meta.dirname, '..');

function isolationOf(dataDir: string, taskId: string): unknown {
  const store = openStore({ dataDir });
  try {
    const [record] = store.listRuns();
    const receipt = store.listReceipts(record!.id).find((r) => r.taskId === taskId)!;
    const bundle = receipt.bundle as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    return statement.predicate.buildDefinition.internalParameters.maestro.isolation;
  } finally {
    store.close();
  }
}

function attemptsOf(dataDir: string, taskId: string) {
  const store = openStore({ dataDir });
  try {
    const [record] = store.listRuns();
    return {
      attempts: store.listAttempts(record!.id, taskId),
      logs: store.listLogs(record!.id, taskId).map((l) => l.text),
    };
  } finally {
    store.close();
  }
}

/** A host step that leaves a mark on the host, outside any workspace, and a sandboxed one that tries to. */
function hostWorkflow(dataDir: string, mark: string): string {
  return writeWorkflow(
    dataDir,
    'ops',
    `    - id: host-step
      hostAccess: true
      run: echo from-the-host > ${mark}
    - id: sandboxed
      needs: [host-step]
      run: |
        if [ -e ${mark} ]; then echo sees-the-host; else echo no-host; fi
        echo sandboxed-write > ${mark}.2 || true
`,
  );
}

describe('a step that asks for host access', () => {
  it('is refused on a runner the operator did not grant it, and nothing of it runs', async () => {
    for (const config of [undefined, 'local:\n  sandbox: none\n', 'local:\n  hostAccess: denied\n']) {
      const dataDir = tempDir('maestro-host-');
      const mark = join(dataDir, 'host-mark');
      const file = hostWorkflow(dataDir, mark);
      const args = ['run', file];
      if (config) {
        writeFileSync(join(dataDir, 'runners.yaml'), config);
        args.push('--runners', join(dataDir, 'runners.yaml'));
      }
      const run = shellIo(root, { MAESTRO_DATA_DIR: dataDir });
      expect(await runCli(args, run), `${config}: ${run.out()}${run.err()}`).toBe(1);
      expect(existsSync(mark), String(config)).toBe(false);
      const { attempts } = attemptsOf(dataDir, 'host-step');
      expect(attempts, String(config)).toHaveLength(1);
      expect(attempts[0], String(config)).toMatchObject({
        outcome: 'runner_error',
        reason: 'host_access_not_granted',
        retryable: false,
      });
    }
  });

  it('runs on the host where the runners config grants it, and the log and receipt say so', async () => {
    const dataDir = tempDir('maestro-host-');
    const mark = join(dataDir, 'host-mark');
    const file = hostWorkflow(dataDir, mark);
    writeFileSync(join(dataDir, 'runners.yaml'), 'local:\n  hostAccess: granted\n');
    const run = shellIo(root, { MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file, '--runners', join(dataDir, 'runners.yaml')], run), run.err()).toBe(0);
    expect(readFileSync(mark, 'utf8')).toBe('from-the-host\n');
    expect(attemptsOf(dataDir, 'host-step').logs).toContain(
      'host access: granted (host access granted by the runners config (`local.hostAccess: granted`)); sandbox: none',
    );
    expect(isolationOf(dataDir, 'host-step')).toEqual({
      sandbox: 'none',
      network: 'on',
      reason: 'host access granted by the runners config (`local.hostAccess: granted`)',
      hostAccess: true,
    });
    // The grant is for the step that asks, not the runner: the next step is still sandboxed.
    const sandboxed = attemptsOf(dataDir, 'sandboxed').logs;
    expect(sandboxed).toContain('no-host');
    expect(existsSync(`${mark}.2`)).toBe(false);
    expect(isolationOf(dataDir, 'sandboxed')).toEqual({ sandbox: 'bwrap', network: 'on' });
  });

  it('is a runners config value that must mean something', async () => {
    const dataDir = tempDir('maestro-host-');
    writeFileSync(join(dataDir, 'runners.yaml'), 'local:\n  hostAccess: yes-please\n');
    const file = hostWorkflow(dataDir, join(dataDir, 'mark'));
    const run = shellIo(root, { MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file, '--runners', join(dataDir, 'runners.yaml')], run)).toBe(1);
    expect(run.err()).toContain('`local.hostAccess` must be `granted` or `denied`');
  });
});
