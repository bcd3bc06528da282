import type { Options } from 'ajv';
import type { RE2JS } from 're2js';
import { re2Library } from './libraries.ts';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

/** Longest catalog schema `pattern`, in characters. */
export const maxPatternLength = 1000;
/** Longest string a catalog schema `pattern` is tested on; longer strings do not match. */
export const maxPatternSubjectLength = 4096;

/** A schema `pattern` the linear-time engine cannot run (lookaround, backreference, too long). */
export class UnsupportedPatternError extends Error {}

/**
 * The RegExp engine ajv uses for schema `pattern`s: RE2 (re2js), which matches in time linear
 * in the subject whatever the pattern, so no `pattern` a task author writes can hang a compile
 * (`^\d*\d*\d*$` on 3,200 digits and a letter took 15 s in V8). ECMAScript syntax RE2 lacks
 * (`\uXXXX`, `\u{…}`, `\cX`) is rewritten; lookaround and backreferences have no linear-time
 * meaning and are refused with a reason.
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = compileLinear(pattern, flags);
    return {
      test: (s: string) => s.length <= maxPatternSubjectLength && re.test(s),
      // ajv caches compiled patterns by `toString()`: without this every pattern of an ajv
      // instance would share one cache key ("[object Object]") and test the first one compiled.
      toString: () => `/${pattern}/${flags}`,
    };
  },
  { code: 're2js' },
);

function compileLinear(pattern: string, flags: string): RE2JS {
  if (pattern.length > maxPatternLength)
    throw new UnsupportedPatternError(`pattern is longer than ${maxPatternLength} characters`);
  const unsupported = unsupportedConstruct(pattern);
  if (unsupported)
    throw new UnsupportedPatternError(
      `pattern ${JSON.stringify(pattern)} uses ${unsupported}, which a linear-time engine (RE2) cannot match`,
    );
  const { RE2JS } = re2Library();
  let re2Flags = 0;
  if (flags.includes('i')) re2Flags |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) re2Flags |= RE2JS.MULTILINE;
  if (flags.includes('s')) re2Flags |= RE2JS.DOTALL;
  try {
    return RE2JS.compile(toRe2Syntax(pattern), re2Flags);
  } catch (error) {
    throw new UnsupportedPatternError(
      `pattern ${JSON.stringify(pattern)} is not supported: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Lookaround or a backreference, named for the message; undefined when there is none. */
function unsupportedConstruct(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'a backreference';
      i++;
    } else if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!')) return 'a lookahead';
      if (rest === '<=' || rest === '<!') return 'a lookbehind';
    }
  }
  return undefined;
}

/** ECMAScript escapes RE2 spells differently: `\uXXXX` (surrogate pairs joined), `\u{X}`, `\cX`. */
function toRe2Syntax(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = pattern[i + 1] ?? '';
    const braced = /^u\{([0-9A-Fa-f]{1,6})\}/.exec(pattern.slice(i + 1));
    const unit = /^u([0-9A-Fa-f]{4})/.exec(pattern.slice(i + 1));
    const control = /^c([A-Za-z])/.exec(pattern.slice(i + 1));
    if (braced) {
      out += `\\x{${braced[1]}}`;
      i += braced[0].length;
    } else if (unit) {
      let code = parseInt(unit[1] as string, 16);
      i += unit[0].length;
      const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(pattern.slice(i + 1));
      if (code >= 0xd800 && code <= 0xdbff && low) {
        code = 0x10000 + ((code - 0xd800) << 10) + (parseInt(low[1] as string, 16) - 0xdc00);
        i += low[0].length;
      }
      out += `\\x{${code.toString(16)}}`;
    } else if (control) {
      out += `\\x{${((control[1] as string).toUpperCase().charCodeAt(0) % 32).toString(16)}}`;
      i += control[0].length;
    } else {
      out += c + next;
      i++;
    }
  }
  return out;
}
