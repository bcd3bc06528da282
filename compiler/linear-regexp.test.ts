import { describe, expect, it } from 'vitest';
import { linearRegExp, maxPatternSubjectLength, UnsupportedPatternError } from './linear-regexp.ts';

const test = (pattern: string, subject: string, flags = 'u') => linearRegExp(pattern, flags).test(subject);

describe('linearRegExp (ajv `code.regExp`: RE2 for schema patterns)', () => {
  it('behaves as ECMAScript for the patterns schemas use', () => {
    expect(test('^[a-z][a-z0-9-]*$', 'web-1')).toBe(true);
    expect(test('^[a-z][a-z0-9-]*$', 'Web')).toBe(false);
    expect(test('[0-9]{3}', 'ab123')).toBe(true); // unanchored, as JSON Schema says
    expect(test('^\\d{4}-\\d{2}$', '2026-12')).toBe(true);
    expect(test('^(?<year>\\d{4})$', '2026')).toBe(true);
    expect(test('^a$', 'A', 'iu')).toBe(true);
  });

  it('rewrites \\uXXXX (with surrogate pairs), \\u{X} and \\cX, which RE2 spells differently', () => {
    expect(test('^\\u0041\\u{42}$', 'AB')).toBe(true);
    expect(test('^[\\u0061-\\u007a]+$', 'abc')).toBe(true);
    expect(test('^\\ud83d\\ude00$', '😀')).toBe(true);
    expect(test('^\\cJ$', '\n')).toBe(true);
    expect(test('^\\\\u0041$', '\\u0041')).toBe(true); // an escaped backslash stays one
  });

  it('refuses lookaround and backreferences with the reason', () => {
    for (const [pattern, why] of [
      ['(?=a)a', 'a lookahead'],
      ['(?!a)b', 'a lookahead'],
      ['(?<=a)b', 'a lookbehind'],
      ['(?<!a)b', 'a lookbehind'],
      ['(a)\\1', 'a backreference'],
      ['(?<n>a)\\k<n>', 'a backreference'],
    ])
      expect(() => linearRegExp(pattern as string, 'u')).toThrow(new RegExp(`uses ${why}`));
    expect(() => linearRegExp('[(?=]', 'u')).not.toThrow(); // inside a class it is literal
    expect(() => linearRegExp('a'.repeat(1001), 'u')).toThrow(UnsupportedPatternError);
  });

  it('nested quantifiers are fine: the match is linear', () => {
    expect(test('^(a+)+$', `${'a'.repeat(4000)}!`)).toBe(false);
    expect(test('^(a|aa)*$', 'a'.repeat(4000))).toBe(true);
  });

  it('subjects longer than the cap do not match', () => {
    expect(test('^a*$', 'a'.repeat(maxPatternSubjectLength))).toBe(true);
    expect(test('^a*$', 'a'.repeat(maxPatternSubjectLength + 1))).toBe(false);
  });
});

describe('linearRegExp inside ajv', () => {
  it('each pattern keeps its own compiled matcher (ajv caches them by toString())', async () => {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ strict: false, code: { regExp: linearRegExp } });
    const validate = ajv.compile({
      type: 'object',
      properties: { a: { type: 'string', pattern: '^a+$' }, b: { type: 'string', pattern: '^b+$' } },
    });
    expect(validate({ a: 'aaa', b: 'bbb' })).toBe(true);
    expect(validate({ a: 'aaa!', b: 'bbb' })).toBe(false);
    expect(validate({ a: 'aaa', b: 'aaa' })).toBe(false);
  });
});
