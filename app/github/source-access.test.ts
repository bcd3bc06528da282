import { describe, expect, it } from 'vitest';
import type { PlanTask, RunSource } from '../../core/index.ts';
import { gitOriginOf, SourceAccess, type RunFetchRecord } from './source-access.ts';

const minted: number[] = [];
const git = (repo: string): RunSource => ({ kind: 'git', repo, commit: 'a'.repeat(40) });
const catalogTask = (url: string) =>
  ({
    id: 'lint',
    action: { type: 'catalog', name: 'lint', source: { url, commit: 'b'.repeat(40), path: 'x' } },
  }) as unknown as PlanTask;

/** A SourceAccess whose stored runs are `runs` (what the App store and the engine store hold). */
const access = (api: string, runs: Record<string, RunFetchRecord>) => {
  const sources = new SourceAccess(api);
  sources.useMinter(async (installationId) => {
    minted.push(installationId);
    return `token-of-${installationId}`;
  });
  sources.useRuns(async (runId) => runs[runId]);
  return sources;
};

describe('SourceAccess: which installation token fetches which clone URL, from the stored run', () => {
  it("answers for the run's source and its locked catalogs, with the installation that dispatched it", async () => {
    const sources = access('https://api.github.com', {
      r1: {
        installationId: 42,
        source: git('https://github.com/acme/app.git'),
        plan: { tasks: [catalogTask('https://github.com/acme/catalog.git')] },
      },
      // A fork's pull request: fetched from the base repository with the base installation's token.
      r2: { installationId: 42, source: git('https://github.com/mallory/app.git'), plan: { tasks: [] } },
    });
    expect(await sources.tokenFor('https://github.com/acme/app.git', { runId: 'r1' })).toBe('token-of-42');
    expect(await sources.tokenFor('https://github.com/acme/catalog.git', { runId: 'r1' })).toBe(
      'token-of-42',
    );
    expect(await sources.tokenFor('https://github.com/mallory/app.git', { runId: 'r2' })).toBe('token-of-42');
  });

  it('never gives a token for a URL the run does not fetch, a run the App did not dispatch, or another host', async () => {
    minted.length = 0;
    const sources = access('https://api.github.com', {
      mine: { installationId: 42, source: git('https://evil.example/acme/app.git'), plan: { tasks: [] } },
      other: { installationId: 7, source: git('https://github.com/other/repo.git'), plan: { tasks: [] } },
    });
    // Another installation's run names a repository: its token is not ours to use for run `mine`.
    expect(await sources.tokenFor('https://github.com/other/repo.git', { runId: 'mine' })).toBeUndefined();
    // A run posted to the REST API naming the App's repository has no dispatch record.
    expect(await sources.tokenFor('https://github.com/other/repo.git', { runId: 'api-run' })).toBeUndefined();
    // A source on another host, even the run's own, and plain http on github.com.
    expect(await sources.tokenFor('https://evil.example/acme/app.git', { runId: 'mine' })).toBeUndefined();
    expect(await sources.tokenFor('http://github.com/other/repo.git', { runId: 'other' })).toBeUndefined();
    // Without the run it is for, nothing.
    expect(await sources.tokenFor('https://github.com/other/repo.git')).toBeUndefined();
    expect(minted).toEqual([]);
  });

  it('has no token before the App has its installation clients', async () => {
    const sources = new SourceAccess('http://127.0.0.1:9');
    sources.useRuns(async () => ({
      installationId: 1,
      source: git('http://127.0.0.1:9/acme/app.git'),
      plan: { tasks: [] },
    }));
    expect(await sources.tokenFor('http://127.0.0.1:9/acme/app.git', { runId: 'r' })).toBeUndefined();
  });

  it("maps the API's base URL to where git is served", () => {
    expect(gitOriginOf('https://api.github.com')).toBe('https://github.com');
    expect(gitOriginOf('https://ghe.example.com/api/v3')).toBe('https://ghe.example.com');
    expect(gitOriginOf('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
  });
});
