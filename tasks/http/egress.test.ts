import { describe, expect, it } from 'vitest';
import { hostAllowed, redirectAllowList } from './egress.ts';

describe('the http task’s redirect allow-list', () => {
  it('without the policy’s list, allows only the host policy approved', () => {
    expect(redirectAllowList({}, 'API.example.com')).toEqual(['api.example.com']);
  });

  it('reads the policy’s list from MAESTRO_EGRESS_ALLOWED_HOSTS, lower-cased', () => {
    const env = { MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(['Example.com', '*.cdn.example']) };
    expect(redirectAllowList(env, 'example.com')).toEqual(['example.com', '*.cdn.example']);
  });

  it('refuses a list that is not a JSON list of names', () => {
    expect(() => redirectAllowList({ MAESTRO_EGRESS_ALLOWED_HOSTS: '{"a":1}' }, 'x')).toThrow(/JSON list/);
    expect(() => redirectAllowList({ MAESTRO_EGRESS_ALLOWED_HOSTS: '[1]' }, 'x')).toThrow(/JSON list/);
  });

  it('matches exact hosts and *.suffix subdomains, never the bare suffix’s look-alikes', () => {
    const list = ['example.com', '*.cdn.example'];
    expect(hostAllowed('EXAMPLE.com', list)).toBe(true);
    expect(hostAllowed('a.cdn.example', list)).toBe(true);
    expect(hostAllowed('a.b.cdn.example', list)).toBe(true);
    expect(hostAllowed('evilcdn.example', list)).toBe(false);
    expect(hostAllowed('example.com.evil', list)).toBe(false);
    expect(hostAllowed('sub.example.com', list)).toBe(false);
  });
});
