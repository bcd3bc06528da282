import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { membersOf, readTeamsFile } from './teams-file.ts';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'teams-')), 'teams.yaml');
  writeFileSync(path, text);
  return path;
};

describe('the teams file (MAESTRO_TEAMS_FILE)', () => {
  it('maps team:<slug> to its members; another organisation’s team and an unknown one have none', () => {
    const teams = readTeamsFile(file('teams:\n  Ops: [alice, bob]\n'));
    expect(membersOf(teams, { slug: 'ops' })).toEqual(['alice', 'bob']);
    expect(membersOf(teams, { org: 'acme', slug: 'ops' })).toEqual([]);
    expect(membersOf(teams, { slug: 'sre' })).toEqual([]);
    expect(readTeamsFile(undefined).size).toBe(0);
  });

  it('refuses a file it cannot read or whose shape is wrong, naming the file and what is wrong', () => {
    const bad = {
      missing: '/nonexistent/teams.yaml',
      'no mapping': file('ops: [alice]\n'),
      'not a list': file('teams:\n  ops: alice\n'),
      'not a login': file('teams:\n  ops: ["al ice"]\n'),
      'not yaml': file('teams: [\n'),
    };
    for (const [what, path] of Object.entries(bad))
      expect(() => readTeamsFile(path), what).toThrow(
        expect.objectContaining({ code: 'teams_file_invalid' }),
      );
    expect(() => readTeamsFile(bad['not a list'])).toThrow(/members of ops/);
  });
});
