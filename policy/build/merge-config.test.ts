import { describe, expect, it } from 'vitest';
import { mergeConfig } from './merge-config.ts';

const base = { allowed_hosts: ['a.com'], sensitive_tasks: ['sig.export'], require_known_hosts: true };

describe('mergeConfig', () => {
  it('replaces allow-lists, adds to sensitive lists, keeps the rest', () => {
    expect(
      mergeConfig(base, { allowed_hosts: ['b.com'], sensitive_tasks: ['http', 'sig.export'] }, 'c.json'),
    ).toEqual({
      allowed_hosts: ['b.com'],
      sensitive_tasks: ['sig.export', 'http'],
      require_known_hosts: true,
    });
  });

  it('refuses unknown keys, non-string lists, and switching require_known_hosts off', () => {
    expect(() => mergeConfig(base, { nope: [] }, 'c.json')).toThrow('c.json: unknown key "nope"');
    expect(() => mergeConfig(base, { allowed_hosts: [1] }, 'c.json')).toThrow('must be a list of strings');
    expect(() => mergeConfig(base, { require_known_hosts: false }, 'c.json')).toThrow(
      'can only be set to true',
    );
  });
});
