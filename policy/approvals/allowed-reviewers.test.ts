import { describe, expect, it } from 'vitest';
import { parseFromEntry, resolveAllowed } from './allowed-reviewers.ts';

describe('from: entries', () => {
  it('parses logins, teams with and without an organisation, and what allows nobody', () => {
    expect(parseFromEntry('octocat')).toEqual({ kind: 'user', login: 'octocat' });
    expect(parseFromEntry('@octocat')).toEqual({ kind: 'user', login: 'octocat' });
    expect(parseFromEntry('team:ops')).toEqual({ kind: 'team', slug: 'ops' });
    expect(parseFromEntry('team:acme/ops')).toEqual({ kind: 'team', org: 'acme', slug: 'ops' });
    expect(parseFromEntry('@acme/ops')).toEqual({ kind: 'team', org: 'acme', slug: 'ops' });
    expect(parseFromEntry('dev@example.com').kind).toBe('nobody');
    expect(parseFromEntry('codeowners').kind).toBe('nobody');
  });

  it('resolves to the logins and the members of each team, asking for each team once', async () => {
    const asked: string[] = [];
    const allowed = await resolveAllowed(
      ['alice', 'team:ops', '@acme/ops', 'team:ops', 'x@y.z'],
      async (t) => {
        asked.push(`${t.org ?? '-'}/${t.slug}`);
        return t.org ? ['carol'] : ['bob'];
      },
    );
    expect([...allowed].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(asked).toEqual(['-/ops', 'acme/ops']);
  });
});
