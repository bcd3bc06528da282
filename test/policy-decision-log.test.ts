// The WORM decision log: SQLite refuses updates and deletes, and verify names every kind of
// tampering, in an exported file and in the live table.
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import {
  formatDecisionLog,
  hashEntry,
  openDecisionLog,
  parseDecisionLog,
  verifyChain,
  type DecisionLogEntry,
} from '../policy/index.ts';
import { appendDecisions as fill } from './helpers/decision-records.ts';

async function exported(n = 5): Promise<string[]> {
  const log = openDecisionLog(':memory:');
  return formatDecisionLog(await fill(log, n))
    .trimEnd()
    .split('\n');
}

const verifyLines = (lines: string[]) => verifyChain(parseDecisionLog(lines.join('\n')));

describe('decision log storage', () => {
  it('chains entries: each carries the previous hash, and its own hash covers its content', async () => {
    const entries = await fill(openDecisionLog(':memory:'), 3);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    for (const e of entries) expect(hashEntry(e)).toBe(e.hash);
  });

  it('refuses UPDATE, DELETE and an INSERT that does not continue the chain', async () => {
    const db = new DatabaseSync(':memory:');
    await fill(openDecisionLog(db), 2);
    expect(() => db.exec('UPDATE policy_decision_log SET allow = 1 WHERE seq = 1')).toThrow(
      /append-only: UPDATE refused/,
    );
    expect(() => db.exec('DELETE FROM policy_decision_log WHERE seq = 2')).toThrow(
      /append-only: DELETE refused/,
    );
    expect(() =>
      db.exec(
        `INSERT INTO policy_decision_log VALUES (7, 'x', 't', 'r', 't', 1, NULL, 'i', 'b', 1, 0, '[]', 'p', 'h')`,
      ),
    ).toThrow(/does not continue the chain/);
    expect(await openDecisionLog(db).verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('appends inside the engine’s own open transaction (savepoint), sharing its database', async () => {
    const db = new DatabaseSync(':memory:');
    const log = openDecisionLog(db);
    db.exec('BEGIN');
    await fill(log, 2);
    db.exec('ROLLBACK');
    expect(await log.entries()).toHaveLength(0);
    await fill(log, 1);
    expect((await log.verify()).ok).toBe(true);
  });
});

describe('verify an exported log', () => {
  it('accepts an untouched export', async () => {
    expect(verifyLines(await exported())).toMatchObject({ ok: true, entries: 5, findings: [] });
  });

  it('names an edited entry', async () => {
    const lines = await exported();
    lines[2] = lines[2]!.replace('"allow":false', '"allow":true');
    const report = verifyLines(lines);
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([
      expect.objectContaining({ index: 2, kind: 'edited', decisionId: 'd-3' }),
    ]);
  });

  it('names an edited entry whose hash was recomputed', async () => {
    const lines = await exported();
    const e = JSON.parse(lines[1]!) as DecisionLogEntry;
    e.reasons = ['nothing to see'];
    e.hash = hashEntry(e);
    lines[1] = JSON.stringify(e);
    expect(verifyLines(lines).findings).toEqual([
      expect.objectContaining({ index: 1, kind: 'edited', decisionId: 'd-2' }),
    ]);
  });

  it('names a removed entry', async () => {
    const lines = await exported();
    lines.splice(2, 1);
    expect(verifyLines(lines).findings).toEqual([
      expect.objectContaining({
        index: 2,
        kind: 'removed',
        message: expect.stringContaining('seq 3 removed'),
      }),
    ]);
  });

  it('names an inserted entry, even one with a self-consistent hash', async () => {
    const lines = await exported();
    const before = JSON.parse(lines[0]!) as DecisionLogEntry;
    const forged = {
      ...before,
      decisionId: 'forged',
      seq: 2,
      prevHash: before.hash,
      allow: true,
      reasons: [],
    };
    forged.hash = hashEntry(forged);
    lines.splice(1, 0, JSON.stringify(forged));
    expect(verifyLines(lines).findings).toEqual([
      expect.objectContaining({ index: 1, kind: 'inserted', decisionId: 'forged' }),
    ]);
  });

  it('names reordered entries', async () => {
    const lines = await exported();
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    const findings = verifyLines(lines).findings;
    expect(findings.map((f) => [f.index, f.kind, f.decisionId])).toEqual([
      [1, 'reordered', 'd-3'],
      [2, 'reordered', 'd-2'],
    ]);
  });

  it('names a line that is not an entry, and refuses a line that is not JSON', async () => {
    const lines = await exported();
    lines[3] = '{"hello":"world"}';
    expect(verifyLines(lines).findings[0]).toMatchObject({ index: 3, kind: 'malformed' });
    lines[3] = '{broken';
    expect(() => verifyLines(lines)).toThrow(/:4: not a JSON line/);
  });
});

describe('verify the live log', () => {
  it('finds a row edited and a row deleted behind the triggers’ back', async () => {
    const db = new DatabaseSync(':memory:');
    const log = openDecisionLog(db);
    await fill(log, 5);
    db.exec('DROP TRIGGER policy_decision_log_no_update; DROP TRIGGER policy_decision_log_no_delete');
    db.exec(`UPDATE policy_decision_log SET reasons = '[]', allow = 1 WHERE seq = 1`);
    db.exec('DELETE FROM policy_decision_log WHERE seq = 4');
    const report = await log.verify();
    expect(report.findings.map((f) => [f.index, f.kind])).toEqual([
      [0, 'edited'],
      [3, 'removed'],
    ]);
  });
});
