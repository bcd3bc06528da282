import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTrustFromEvent } from './run-trust.ts';

function event(body: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'maestro-event-')), 'event.json');
  writeFileSync(file, JSON.stringify(body));
  return file;
}

describe('runTrustFromEvent', () => {
  it('trusts the repository’s own events', () => {
    for (const name of ['push', 'workflow_dispatch', 'schedule', undefined])
      expect(runTrustFromEvent(name, undefined)).toBe('trusted');
    const same = event({
      repository: { full_name: 'o/r' },
      pull_request: { head: { repo: { full_name: 'o/r' } } },
    });
    expect(runTrustFromEvent('pull_request', same)).toBe('trusted');
  });
  it('does not trust a fork’s pull request, nor one it cannot tell (fail closed)', () => {
    const fork = event({
      repository: { full_name: 'o/r' },
      pull_request: { head: { repo: { full_name: 'f/r' } } },
    });
    expect(runTrustFromEvent('pull_request', fork)).toBe('untrusted');
    expect(runTrustFromEvent('pull_request_target', fork)).toBe('untrusted');
    // A deleted fork has head.repo null.
    const deleted = event({ repository: { full_name: 'o/r' }, pull_request: { head: { repo: null } } });
    expect(runTrustFromEvent('pull_request', deleted)).toBe('untrusted');
    expect(runTrustFromEvent('pull_request', '/no/such/event.json')).toBe('untrusted');
    expect(runTrustFromEvent('pull_request', undefined)).toBe('untrusted');
  });
});
