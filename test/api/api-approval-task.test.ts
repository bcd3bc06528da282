/**
 * An approval task (`uses: tasks/approval@1`) in the middle of an API-driven run, over real HTTP
 * against the real server (every request and answer checked against openapi.json), SQLite store,
 * the server's own worker: the run waits in waiting_for_approval after its first task, and only
 * approvals through POST /v1/runs/{id}/tasks/{taskId}/approvals by allowed reviewers (not its
 * starter, each counted once, from a token holding approvals:write) let it finish; a timeout
 * rejects it with nobody approving, through the worker's sweep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../api/index.ts';
import { manifest, startApi, type ApiHarness } from './api-harness.ts';

const TEAMS = 'teams:\n  release: [carol]\n';
const APPROVE: Scope[] = ['approvals:write', 'runs:read'];
const START: Scope[] = ['runs:write', 'runs:read', 'workflows:write', 'workflows:read', 'approvals:write'];

const gated = (name: string, withBlock: string) =>
  manifest(
    name,
    `    - id: build
      run: "true"
    - id: gate
      uses: tasks/approval@1
      needs: [build]
      with:
${withBlock}
    - id: ship
      run: "true"
      needs: [gate]
`,
  );

describe('an approval task through the API', () => {
  let api: ApiHarness;
  let starter: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await startApi({ teams: TEAMS });
    starter = await api.mint(START, { user: 'erin' });
    for (const user of ['alice', 'bob', 'carol', 'mallory']) tokens[user] = await api.mint(APPROVE, { user });
    tokens.reader = await api.mint(['runs:read'], { user: 'alice' });
  });
  afterAll(async () => api?.close());

  const post = async (text: string) =>
    (await api.call('POST', '/v1/workflows', { raw: text, contentType: 'application/yaml', token: starter }))
      .body.digest as string;
  const start = async (digest: string) =>
    (await api.call('POST', '/v1/runs', { body: { workflow: digest }, token: starter })).body.id as string;
  const approve = (id: string, token: string) =>
    api.call('POST', '/v1/runs/{id}/tasks/{taskId}/approvals', { params: { id, taskId: 'gate' }, token });
  const waiting = async (id: string) => {
    for (;;) {
      const { body } = await api.call('GET', '/v1/runs/{id}', { params: { id } });
      if (body.run.status === 'waiting_for_approval') return body;
      expect(['queued', 'running']).toContain(body.run.status);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('waits mid-run, refuses the attacks, counts each reviewer once, then finishes', async () => {
    const id = await start(
      await post(
        gated(
          'deploy',
          '        approvals: 2\n        reviewers: [alice, bob, erin]\n        teams: [release]',
        ),
      ),
    );
    const detail = await waiting(id);
    const byId = Object.fromEntries(detail.tasks.map((t: { id: string; state: string }) => [t.id, t.state]));
    expect(byId).toMatchObject({ build: 'succeeded', gate: 'waiting_for_approval', ship: 'queued' });

    // A token without approvals:write: 403 before anything is recorded.
    expect(await approve(id, tokens.reader!)).toMatchObject({ status: 403 });
    // Its starter is a listed reviewer, and still may not approve their own run.
    expect(await approve(id, starter)).toMatchObject({ status: 403, body: { code: 'approver_is_author' } });
    // Not a reviewer, not in the team.
    expect(await approve(id, tokens.mallory!)).toMatchObject({
      status: 403,
      body: { code: 'approver_not_allowed' },
    });

    const first = await approve(id, tokens.alice!);
    expect(first).toMatchObject({
      status: 201,
      body: { recorded: true, satisfied: false, required: 2, state: 'waiting_for_approval' },
    });
    const again = await approve(id, tokens.alice!);
    expect(again).toMatchObject({ status: 200, body: { recorded: false, satisfied: false } });
    expect(again.body.approvals.map((a: { approver: string }) => a.approver)).toEqual(['alice']);

    // carol is allowed through the teams file's `release`.
    const second = await approve(id, tokens.carol!);
    expect(second).toMatchObject({ status: 201, body: { satisfied: true, state: 'succeeded' } });
    expect(second.body.approvals.map((a: { via: string }) => a.via)).toEqual(['api', 'api']);
    const done = await api.settle(id);
    expect(done.body.run.status).toBe('succeeded');
    expect(done.body.tasks.map((t: { state: string }) => t.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // Too late: the task no longer waits.
    expect(await approve(id, tokens.bob!)).toMatchObject({ status: 409, body: { code: 'task_not_waiting' } });
  });

  it('a timeout rejects the run with nobody approving', async () => {
    const id = await start(
      await post(gated('deploy-timeout', '        reviewers: [alice]\n        timeout: 1s')),
    );
    await waiting(id);
    const done = await api.settle(id);
    expect(done.body.run.status).toBe('failed');
    const gate = done.body.tasks.find((t: { id: string }) => t.id === 'gate');
    expect(gate).toMatchObject({ state: 'failed', reason: 'approval_timed_out' });
    expect(done.body.tasks.find((t: { id: string }) => t.id === 'ship')).toMatchObject({ state: 'skipped' });
  });
});
