/**
 * A task controls its artifacts directory. Symlinks there (to the dev signing key, or to the whole
 * keys directory) must not get the key's bytes or digest into the signed receipts, nor copy the
 * link into a later attempt through the cache. Real CLI, real local runner, real dev-key attestor.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { captureIo } from './cli-helpers.ts';

function manifest(keysDir: string): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata: { name: link-demo, namespace: test }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: sneaky
      cache: { enabled: true }
      artifacts: [real.txt, leak, keysdir, pipe, kd/dev-signing-key.pem]
      run: >-
        printf 'ok\\n' > real.txt &&
        ln -s ${keysDir}/dev-signing-key.pem leak &&
        ln -s ${keysDir} keysdir &&
        ln -s ${keysDir} kd &&
        mkfifo pipe
`;
}

/** The in-toto statements inside every stored receipt's DSSE envelope, as text. */
function statements(dataDir: string, runId: string): string[] {
  const store = openStore({ dataDir });
  try {
    return store.listReceipts(runId).map((r) => {
      const bundle = r.bundle as { dsseEnvelope: { payload: string } };
      return Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8');
    });
  } finally {
    store.close();
  }
}

describe('artifacts never follow symlinks', () => {
  it('keeps the signing key out of receipts and the cache, and says why in the task log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-artifact-links-'));
    const dataDir = join(dir, 'data');
    const keysDir = join(dataDir, 'keys');
    const file = join(dir, 'leak.yaml');
    writeFileSync(file, manifest(keysDir));
    const env = { PATH: process.env.PATH, HOME: dir };

    const runs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const io = captureIo(dir, env);
      expect(await runCli(['run', file, '--data-dir', dataDir], io), io.err()).toBe(0);
      runs.push(/run (r-\S+)/.exec(io.out())![1]!);
    }

    // The attestor created the dev key on the first run; the task linked to it.
    const key = readFileSync(join(keysDir, 'dev-signing-key.pem'));
    expect(key.toString('utf8')).toContain('PRIVATE KEY');
    const keyDigest = createHash('sha256').update(key).digest('hex');
    const keyB64 = key.toString('base64').slice(0, 40);

    const store = openStore({ dataDir });
    try {
      const [first] = store.listAttempts(runs[0]!, 'sneaky');
      const [cached] = store.listAttempts(runs[1]!, 'sneaky');
      // The links were really there in the task's workspace; only the regular file was kept.
      expect(lstatSync(join(first!.workDir, 'leak')).isSymbolicLink()).toBe(true);
      expect(lstatSync(join(first!.workDir, 'keysdir')).isSymbolicLink()).toBe(true);
      expect(lstatSync(join(first!.workDir, 'kd')).isSymbolicLink()).toBe(true);
      expect(readdirSync(first!.artifactsDir)).toEqual(['real.txt']);
      // The second run is a cache hit: only the regular file was reused.
      expect(store.getTask(runs[1]!, 'sneaky').state).toBe('cached');
      expect(readdirSync(cached!.artifactsDir)).toEqual(['real.txt']);
      expect(readFileSync(join(cached!.artifactsDir, 'real.txt'), 'utf8')).toBe('ok\n');

      const log = store
        .listLogs(runs[0]!, 'sneaky')
        .map((l) => l.text)
        .join('\n');
      expect(log).toMatch(/artifact keysdir is a symlink, not a regular file/);
      expect(log).toMatch(/artifact leak is a symlink/);
      expect(log).toMatch(/artifact pipe is a fifo/);
      // A symlinked folder on the way to a declared path is not followed either.
      expect(log).toMatch(/artifact kd\/dev-signing-key.pem is a symlink/);
    } finally {
      store.close();
    }

    for (const runId of runs) {
      const texts = statements(dataDir, runId);
      expect(texts.length).toBeGreaterThan(1);
      const subjects = texts.flatMap((t) =>
        (JSON.parse(t) as { subject: Array<{ name: string }> }).subject.map((s) => s.name),
      );
      // Only the regular file is an artifact subject (the run receipt names the attempts).
      expect(subjects.filter((n) => n.startsWith('artifacts/'))).toEqual(['artifacts/real.txt']);
      for (const text of texts) {
        expect(text).not.toContain(keyDigest);
        expect(text).not.toContain(keyB64);
        expect(text).not.toMatch(/leak"|keysdir|pipe"/);
        expect(text).not.toContain('dev-signing-key');
      }
    }
  }, 60_000);
});
