import { describe, expect, it } from 'vitest';
import type { PlanTask } from '../../core/index.ts';
import { allowedNow, approvalSpecOf, describeAllowed, isAllowed } from './approval-spec.ts';

const taskWith = (w: Record<string, unknown>) => ({ id: 'gate', with: w }) as unknown as PlanTask;

describe('approvalSpecOf', () => {
  it('allows anyone when no list is given, and only the listed reviewers when one is', () => {
    expect(isAllowed(allowedNow(approvalSpecOf(taskWith({})), false), 'mallory', [])).toBe(true);
    const listed = allowedNow(approvalSpecOf(taskWith({ reviewers: ['Alice'] })), false);
    expect(isAllowed(listed, 'alice', [])).toBe(true);
    expect(isAllowed(listed, 'mallory', [])).toBe(false);
  });

  it('allows nobody, never everybody, when a list is not a list of plain names', () => {
    for (const w of [
      { reviewers: ['${params.who}'] },
      { reviewers: 'alice' },
      { teams: [7] },
      { escalateTo: { reviewers: {} } },
    ]) {
      const allowed = allowedNow(approvalSpecOf(taskWith(w)), true);
      expect(isAllowed(allowed, 'mallory', ['ops'])).toBe(false);
      expect(describeAllowed(allowed)).toMatch(/^nobody/);
    }
  });

  it('reads the timeout with the duration grammar, and one it cannot read rejects at once', () => {
    expect(approvalSpecOf(taskWith({ timeout: '30m' })).timeoutMs).toBe(1_800_000);
    expect(approvalSpecOf(taskWith({})).timeoutMs).toBeUndefined();
    expect(approvalSpecOf(taskWith({ timeout: 'soon' })).timeoutMs).toBe(0);
  });
});
