import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeChecked, SECRET, startHarness, type Harness } from './github-standin/app-harness.ts';
import { signedDelivery } from './github-standin/index.ts';

const DEPLOY = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: deploy
  namespace: demo
spec:
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
    - id: ship
      run: echo shipped
`;

describe('webhook replay: a captured, validly signed body under a new X-GitHub-Delivery id', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ runUpdateIntervalMs: 100 });
  });
  afterEach(() => closeChecked(h));

  /** A commit on main adding the push-triggered workflow, and the push event GitHub sends for it. */
  const pushToMain = () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { '.maestro/workflows/deploy.yaml': DEPLOY },
    });
    return {
      sha,
      payload: h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    };
  };

  it('is recognised as a duplicate and does not dispatch a second run', async () => {
    const { sha, payload } = pushToMain();
    const genuine = signedDelivery(SECRET, 'push', payload, 'genuine-1');
    const first = await fetch(`${h.appUrl}/api/github/webhooks`, {
      method: 'POST',
      body: genuine.body,
      headers: genuine.headers,
    });
    expect(first.status).toBe(202);
    await h.idle();
    expect(await h.runtime.engineStore.listRuns()).toHaveLength(1);

    // The attacker captured the bytes and the signature (a logging proxy, a leaked request log)
    // and sends them again under a fresh delivery id: the signature is still valid.
    const replay = await fetch(`${h.appUrl}/api/github/webhooks`, {
      method: 'POST',
      body: genuine.body,
      headers: { ...genuine.headers, 'x-github-delivery': 'replayed-2' },
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ status: 'duplicate' });
    await h.idle();
    expect(await h.runtime.engineStore.listRuns()).toHaveLength(1);
    expect(h.standin.checkRunsNamed('maestro / run demo/deploy', sha)).toHaveLength(1);
    expect(await h.runtime.deliveryStore.deliveryState('replayed-2')).toBeUndefined();
  });

  it('a push older than the delivery retention (its record may have been pruned) is refused, and nothing runs', async () => {
    const { payload } = pushToMain();
    // Captured 31 days ago: past the 30-day retention its id and digest are gone from the store.
    payload.repository.pushed_at = Math.floor(Date.now() / 1000) - 31 * 86_400;
    const old = signedDelivery(SECRET, 'push', payload, 'captured-long-ago');
    const response = await fetch(`${h.appUrl}/api/github/webhooks`, {
      method: 'POST',
      body: old.body,
      headers: old.headers,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'delivery_stale' });
    // Without GitHub's push stamp a push is refused too (fail closed).
    delete payload.repository.pushed_at;
    const unstamped = signedDelivery(SECRET, 'push', payload, 'unstamped');
    expect(await h.post(unstamped.body, unstamped.headers)).toBe(400);
    await h.idle();
    expect(await h.runtime.engineStore.listRuns()).toHaveLength(0);
    expect(await h.runtime.deliveryStore.deliveryState('captured-long-ago')).toBeUndefined();
  });
});
