import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countApprovals, readDefaultBundle, type ApprovalFacts, type ReviewFact } from '../policy/index.ts';
import type { Plan } from '../core/index.ts';
import {
  policySensitivity,
  checkWebhookSignature,
  ownersOf,
  parseCodeowners,
  readAppConfig,
  signWebhookBody,
} from '../app/index.ts';

const HEAD = 'h'.repeat(40);
const OLD = 'o'.repeat(40);
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function facts(reviews: ReviewFact[], extra: Partial<ApprovalFacts> = {}): ApprovalFacts {
  return {
    required: 1,
    allowed: undefined,
    reviews,
    pullRequestAuthor: 'author',
    lastPushers: new Set(['pusher']),
    writers: new Set(['bob', 'carol', 'author', 'pusher']),
    digest: D1,
    digestAt: new Map([
      [HEAD, D1],
      [OLD, D2],
    ]),
    ...extra,
  };
}

let id = 0;
const r = (login: string, state: string, commitId = HEAD, minute = id): ReviewFact => ({
  id: ++id,
  login,
  userType: login.endsWith('[bot]') ? 'Bot' : 'User',
  state,
  commitId,
  submittedAt: `2026-01-01T00:${String(minute % 60).padStart(2, '0')}:00Z`,
});

describe('countApprovals', () => {
  it('an approval older than the TTL has expired', () => {
    const now = Date.parse('2026-01-09T00:00:00Z');
    const old = countApprovals(facts([r('bob', 'APPROVED', HEAD, 1)], { now, maxAgeMs: 7 * 86_400_000 }));
    expect(old.satisfied).toBe(false);
    expect(old.notCounted[0]!.reason).toBe('approval expired');
    const fresh = countApprovals(facts([r('bob', 'APPROVED', HEAD, 1)], { now, maxAgeMs: 9 * 86_400_000 }));
    expect(fresh.satisfied).toBe(true);
  });
  it('counts a writer approving the head plan', () => {
    expect(countApprovals(facts([r('bob', 'APPROVED')])).satisfied).toBe(true);
  });
  it('a COMMENTED review after an approval keeps it; CHANGES_REQUESTED after it removes it', () => {
    expect(
      countApprovals(facts([r('bob', 'APPROVED', HEAD, 1), r('bob', 'COMMENTED', HEAD, 2)])).approvers,
    ).toHaveLength(1);
    expect(
      countApprovals(facts([r('bob', 'APPROVED', HEAD, 1), r('bob', 'CHANGES_REQUESTED', HEAD, 2)]))
        .approvers,
    ).toHaveLength(0);
  });
  it('an approval on an older commit counts only when that commit has the same plan digest', () => {
    expect(countApprovals(facts([r('bob', 'APPROVED', OLD)])).notCounted[0]!.reason).toBe(
      'approved a different plan',
    );
    const same = facts([r('bob', 'APPROVED', OLD)], { digestAt: new Map([[OLD, D1]]) });
    expect(countApprovals(same).satisfied).toBe(true);
  });
  it('allowed lists are enforced case-insensitively', () => {
    expect(countApprovals(facts([r('Bob', 'APPROVED')], { allowed: new Set(['carol']) })).satisfied).toBe(
      false,
    );
    expect(countApprovals(facts([r('Bob', 'APPROVED')], { allowed: new Set(['bob']) })).satisfied).toBe(true);
  });
  it('property: the author, the latest pusher, bots and non-writers never count, whatever the reviews', () => {
    const login = fc.constantFrom('author', 'pusher', 'ci[bot]', 'eve', 'bob', 'carol');
    const state = fc.constantFrom('APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(login, state, fc.constantFrom(HEAD, OLD), fc.nat(59)), { maxLength: 12 }),
        (rows) => {
          const result = countApprovals(facts(rows.map(([l, s, c, m]) => r(l, s, c, m))));
          for (const a of result.approvers) expect(['bob', 'carol']).toContain(a.login);
          expect(new Set(result.approvers.map((a) => a.login)).size).toBe(result.approvers.length);
          expect(result.satisfied).toBe(result.approvers.length >= 1);
        },
      ),
    );
  });
});

describe('CODEOWNERS', () => {
  const rules = parseCodeowners(`# comment
*            @acme/everyone
/.maestro/   @acme/platform
.maestro/workflows/deploy.yaml @carol @acme/leads
docs/**      @writer
`);
  it('takes the last matching rule', () => {
    expect(ownersOf(rules, '.maestro/workflows/deploy.yaml')).toEqual(['@carol', '@acme/leads']);
    expect(ownersOf(rules, '.maestro/workflows/other.yaml')).toEqual(['@acme/platform']);
    expect(ownersOf(rules, 'src/index.ts')).toEqual(['@acme/everyone']);
    expect(ownersOf(rules, 'docs/a/b.md')).toEqual(['@writer']);
  });
});

describe('webhook signatures', () => {
  it('accepts exactly the HMAC of the raw body', () => {
    const body = Buffer.from('{"a":1}');
    expect(checkWebhookSignature('s', body, signWebhookBody('s', body))).toBeUndefined();
    expect(checkWebhookSignature('s', body, signWebhookBody('t', body))).toBe('mismatch');
    expect(checkWebhookSignature('s', body, undefined)).toBe('missing');
    expect(checkWebhookSignature('s', body, 'sha1=abc')).toBe('malformed');
    expect(checkWebhookSignature('s', body, ['a', 'b'])).toBe('malformed');
  });
  it('property: any other signature string is refused and nothing throws', () => {
    const body = Buffer.from('payload');
    const good = signWebhookBody('k', body);
    fc.assert(
      fc.property(fc.string(), (header) => {
        const result = checkWebhookSignature('k', body, header);
        if (header.trim().toLowerCase() !== good) expect(result).toBeDefined();
      }),
    );
  });
});

describe('readAppConfig', () => {
  const base = {
    APP_ID: '12',
    WEBHOOK_SECRET: 's',
    PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\\nx\\n-----END RSA PRIVATE KEY-----',
  };
  it('builds the GHE base URL from GHE_HOST and GHE_PROTOCOL', () => {
    expect(readAppConfig({ ...base, GHE_HOST: 'ghe.corp', GHE_PROTOCOL: 'http' }, '/').baseUrl).toBe(
      'http://ghe.corp/api/v3',
    );
    expect(readAppConfig(base, '/').baseUrl).toBe('https://api.github.com');
    expect(readAppConfig(base, '/').webhookPath).toBe('/api/github/webhooks');
  });
  it("keeps probot's default port and a 30-day delivery retention", () => {
    expect(readAppConfig(base, '/').port).toBe(3000);
    expect(readAppConfig(base, '/').deliveryRetentionDays).toBe(30);
    expect(readAppConfig({ ...base, MAESTRO_DELIVERY_RETENTION_DAYS: '7' }, '/').deliveryRetentionDays).toBe(
      7,
    );
    expect(() => readAppConfig({ ...base, MAESTRO_DELIVERY_RETENTION_DAYS: '0' }, '/')).toThrow(
      /MAESTRO_DELIVERY_RETENTION_DAYS/,
    );
  });
  it('names the variable that is wrong', () => {
    expect(() => readAppConfig({ ...base, WEBHOOK_SECRET: '' }, '/')).toThrow(/WEBHOOK_SECRET/);
    expect(() => readAppConfig({ ...base, APP_ID: 'abc' }, '/')).toThrow(/APP_ID/);
    expect(() => readAppConfig({ ...base, PORT: 'http' }, '/')).toThrow(/PORT/);
    expect(() => readAppConfig({ ...base, MAESTRO_FORK_RUNNER: 'kubernetes' }, '/')).toThrow(
      /MAESTRO_FORK_RUNNER/,
    );
  });
  it('reads the gate settings (default 1 approval, 7 days) and refuses to switch the gate off', () => {
    expect(readAppConfig(base, '/')).toMatchObject({ defaultApprovals: 1, approvalTtlMs: 7 * 86_400_000 });
    expect(
      readAppConfig({ ...base, MAESTRO_DEFAULT_APPROVALS: '2', MAESTRO_APPROVAL_TTL_HOURS: '24' }, '/'),
    ).toMatchObject({ defaultApprovals: 2, approvalTtlMs: 86_400_000 });
    expect(() => readAppConfig({ ...base, MAESTRO_DEFAULT_APPROVALS: '0' }, '/')).toThrow(
      /MAESTRO_DEFAULT_APPROVALS must be at least 1/,
    );
    expect(() => readAppConfig({ ...base, MAESTRO_APPROVAL_TTL_HOURS: '0' }, '/')).toThrow(
      /MAESTRO_APPROVAL_TTL_HOURS/,
    );
  });
});

describe('policySensitivity (from the default policy bundle configuration)', () => {
  const plan = (namespace: string, labels: Record<string, string>, uses?: string): Plan =>
    ({
      workflow: { kind: 'Workflow', name: 'w', namespace, labels },
      tasks: uses
        ? [
            {
              id: 't',
              action: { type: 'catalog', ref: `tasks/${uses}@1`, name: uses, version: '1.0.0', digest: 'x' },
            },
          ]
        : [],
    }) as unknown as Plan;
  it('marks sensitive namespaces, labels and catalog tasks, and nothing else', async () => {
    const sensitive = policySensitivity((await readDefaultBundle()).data);
    expect(sensitive(plan('legal', {}))).toEqual({ required: 1, from: [] });
    expect(sensitive(plan('demo', { 'maestro.dev/sensitive': 'true' }))).toEqual({ required: 1, from: [] });
    expect(sensitive(plan('demo', {}, 'sig.export'))).toEqual({ required: 1, from: [] });
    expect(sensitive(plan('demo', { 'maestro.dev/sensitive': 'false' }, 'http'))).toBeUndefined();
  });
});
