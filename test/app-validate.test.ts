import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDeliveryStore } from '../app/index.ts';
import { closeChecked, startHarness, type Harness } from './github-standin/app-harness.ts';
import { TestRepository } from './github-standin/index.ts';
import { signedDelivery } from './github-standin/index.ts';

const BROKEN = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: broken
  namespace: demo
spec:
  tasks:
    - id: build
      run: echo build
      retries: 3
    - id: deploy
      needs: [biuld]
      run: echo deploy
`;

const VALID = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: hello
  namespace: demo
spec:
  tasks:
    - id: a
      run: echo a
    - id: b
      needs: [a]
      run: echo b
`;

function manyErrors(count: number): string {
  const tasks = Array.from(
    { length: count },
    (_, i) => `    - id: t${i}\n      run: echo ${i}\n      bogus: ${i}\n`,
  ).join('');
  return `apiVersion: maestro/v1\nkind: Workflow\nmetadata:\n  name: many\n  namespace: demo\nspec:\n  tasks:\n${tasks}`;
}

describe('the GitHub App over HTTP: ingress and the validate check run', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => closeChecked(h));

  it('serves /healthz and /readyz', async () => {
    expect((await fetch(`${h.appUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.appUrl}/readyz`)).status).toBe(200);
  });

  it('annotates every diagnostic of a broken manifest on its file and line, and summarises valid ones', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'alice',
      files: {
        '.maestro/workflows/broken.yaml': BROKEN,
        '.maestro/workflows/hello.yaml': VALID,
        'README.md': 'hi',
      },
    });
    const status = await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/feature', before: '0'.repeat(40), after: sha, pusher: 'alice' }),
    );
    expect(status).toBe(202);
    await h.idle();
    const [run, ...others] = h.standin.checkRunsNamed('maestro / validate', sha);
    expect(others).toEqual([]);
    expect(run!.conclusion).toBe('failure');
    const placed = run!.annotations.map((a) => [
      a.path,
      a.start_line,
      a.start_column,
      a.annotation_level,
      a.title,
    ]);
    expect(placed).toEqual([
      ['.maestro/workflows/broken.yaml', 10, 7, 'failure', 'MS1002'],
      ['.maestro/workflows/broken.yaml', 12, 15, 'failure', 'MS2002'],
    ]);
    expect(run!.output.summary).toContain('demo/hello');
    expect(run!.output.summary).toMatch(/plan digest: `sha256:[0-9a-f]{64}`/);
    expect(run!.output.summary).toContain('```mermaid');
  });

  it('sends more than 50 annotations in batches of 50 without dropping any', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'alice',
      files: { '.maestro/workflows/many.yaml': manyErrors(120) },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/feature', before: '0'.repeat(40), after: sha, pusher: 'alice' }),
    );
    await h.idle();
    const [run] = h.standin.checkRunsNamed('maestro / validate', sha);
    expect(run!.annotations).toHaveLength(120);
    expect(run!.writes).toBe(3);
    const lines = run!.annotations.map((a) => a.start_line);
    expect(new Set(lines).size).toBe(120);
  });

  it('refuses a forged or missing signature with 401, a malformed one with 400, and keeps serving', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'alice',
      files: { '.maestro/workflows/hello.yaml': VALID },
    });
    const payload = h.pushPayload({
      ref: 'refs/heads/x',
      before: '0'.repeat(40),
      after: sha,
      pusher: 'alice',
    });
    const genuine = signedDelivery('standin-webhook-secret', 'push', payload);
    const forged = signedDelivery('not-the-secret', 'push', payload);
    expect(await h.post(forged.body, forged.headers)).toBe(401);
    expect(await h.post(genuine.body, { ...genuine.headers, 'x-hub-signature-256': 'sha256=zz' })).toBe(400);
    const { ['x-hub-signature-256']: _dropped, ...unsigned } = genuine.headers;
    expect(await h.post(genuine.body, unsigned)).toBe(401);
    // A body altered after signing fails too: the signature covers the raw bytes.
    expect(await h.post(genuine.body.replace(sha, 'f'.repeat(40)), genuine.headers)).toBe(401);
    await h.idle();
    expect(h.standin.requests).toEqual([]);
    expect((await fetch(`${h.appUrl}/healthz`)).status).toBe(200);
  });

  it('processes a redelivered webhook (same X-GitHub-Delivery) once', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'alice',
      files: { '.maestro/workflows/hello.yaml': VALID },
    });
    const payload = h.pushPayload({
      ref: 'refs/heads/x',
      before: '0'.repeat(40),
      after: sha,
      pusher: 'alice',
    });
    expect(await h.deliver('push', payload, 'delivery-1')).toBe(202);
    expect(await h.deliver('push', payload, 'delivery-1')).toBe(200);
    await h.idle();
    const runs = h.standin.checkRunsNamed('maestro / validate', sha);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.writes).toBe(1);
    expect(await h.runtime.deliveryStore.deliveryState('delivery-1')).toBe('done');
  });

  it('retries GitHub 5xx and secondary rate limits, and re-mints an expired installation token', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'alice',
      files: { '.maestro/workflows/hello.yaml': VALID },
    });
    h.standin.injectFault({ method: 'POST', path: /\/check-runs$/, status: 502, times: 2 });
    h.standin.injectFault({
      method: 'GET',
      path: /\/git\/trees\//,
      status: 403,
      message: 'You have exceeded a secondary rate limit',
      headers: { 'retry-after': '0' },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/x', before: '0'.repeat(40), after: sha, pusher: 'alice' }),
    );
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / validate', sha)).toHaveLength(1);
    const sha2 = h.repo.commit({ branch: 'main', login: 'alice', files: { 'README.md': 'two' } });
    h.standin.expireTokens();
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/x', before: sha, after: sha2, pusher: 'alice' }),
    );
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / validate', sha2)).toHaveLength(1);
    const mints = h.standin.requests.filter((r) => r.operationId === 'apps/create-installation-access-token');
    expect(mints.length).toBe(2);
    expect(h.standin.requests.some((r) => r.status === 401)).toBe(true);
  });
});

describe('a delivery stored before a restart', () => {
  it('is processed when the app starts again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maestro-app-restart-'));
    const repo = new TestRepository('main');
    const sha = repo.commit({
      branch: 'main',
      login: 'alice',
      files: { '.maestro/workflows/hello.yaml': VALID },
    });
    // First life: a harness only to build a genuine payload, then the delivery is stored the way
    // ingress stores it, as if the process died right after answering 202.
    const first = await startHarness({ dataDir, repo });
    const payload = first.pushPayload({
      ref: 'refs/heads/x',
      before: '0'.repeat(40),
      after: sha,
      pusher: 'alice',
    });
    await first.runtime.close();
    await first.standin.stop();
    const store = await openDeliveryStore({ dataDir });
    expect(
      await store.recordDelivery({
        id: 'stored-1',
        name: 'push',
        payload: JSON.stringify(payload),
        receivedAt: 1,
      }),
    ).toBe('recorded');
    await store.close();
    const second = await startHarness({ dataDir, repo });
    try {
      await second.idle();
      expect(second.standin.checkRunsNamed('maestro / validate', sha)).toHaveLength(1);
      expect(await second.runtime.deliveryStore.deliveryState('stored-1')).toBe('done');
      expect(second.standin.violations).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
