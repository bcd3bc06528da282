/**
 * The App holds one installation token per installation, for its REST calls and its runs' source
 * fetches alike (app/github/installation-tokens.ts): a push whose run fetches its source over
 * git mints one token at the GitHub stand-in, not one for the API client (Probot's own cache, as
 * before) and another for the fetch. A token GitHub refuses is minted once again, and the next
 * run's fetch uses that same new token.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeChecked, INSTALLATION_ID, startHarness, type Harness } from './github-standin/app-harness.ts';

const manifest = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: fetched
  namespace: demo
spec:
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
    - id: read
      run: cat VERSION
`;

let h: Harness;
beforeEach(async () => (h = await startHarness({ runUpdateIntervalMs: 100 })));
afterEach(() => closeChecked(h));

const mints = () =>
  h.standin.requests.filter(
    (r) => r.method === 'POST' && r.path === `/app/installations/${INSTALLATION_ID}/access_tokens`,
  ).length;

async function push(version: string, before: string): Promise<string> {
  const sha = h.repo.commit({
    branch: 'main',
    login: 'carol',
    files: { '.maestro/workflows/fetched.yaml': manifest, VERSION: `${version}\n` },
  });
  expect(
    await h.deliver('push', h.pushPayload({ ref: 'refs/heads/main', before, after: sha, pusher: 'carol' })),
  ).toBe(202);
  await h.idle();
  const [run] = h.standin.checkRunsNamed('maestro / run demo/fetched', sha);
  expect(run!.conclusion).toBe('success');
  return sha;
}

describe('one installation token cache', () => {
  it('mints one token for the REST calls and the source fetch, and one more after GitHub refuses it', async () => {
    const first = await push('1.0.0', '0'.repeat(40));
    // The fetch really used an installation token (the stand-in's git server checks it).
    expect(h.standin.gitRequests.length).toBeGreaterThan(0);
    expect(mints()).toBe(1);
    h.standin.expireTokens();
    await push('2.0.0', first);
    expect(mints()).toBe(2);
  });
});
