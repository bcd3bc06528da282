import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanTemplate, type ScanResult } from './expressions.ts';

/** The scanner as it was written first, with the regular expression: the specification. */
function scanTemplateReference(text: string): ScanResult {
  const refs: ScanResult['refs'] = [];
  const malformed: ScanResult['malformed'] = [];
  const pattern = /(\$?)\$\{([^{}]*)\}/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[1] === '$') continue;
    const body = (match[2] as string).trim();
    if (!body.includes('.')) continue;
    const start = match.index;
    const path = body.split('.');
    if (!path.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) malformed.push({ text: match[0], start });
    else refs.push({ text: match[0], path, start, end: start + match[0].length });
  }
  return { refs, malformed };
}

describe('scanTemplate', () => {
  it('finds exactly what the regular expression finds, on any string of the characters that matter', () => {
    // Letters, digits and `_` with the characters next to their ranges (`@`, `[`, `/`, `:`, `` ` ``):
    // the segment check compares character codes.
    const chars = fc.constantFrom(
      ...['$', '$', '{', '}', '.', '.', 'a', 'b', 'z', '-', ' ', '\t', '*', 'é'],
      ...['A', 'Z', '0', '9', '_', '@', '[', '/', ':', '`'],
    );
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), (list) => {
        const text = list.join('');
        expect(scanTemplate(text)).toEqual(scanTemplateReference(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads a dotted body as the regular expression does, whatever characters its segments hold', () => {
    const chars = fc.constantFrom(
      ...['.', '.', 'a', 'z', 'A', 'Z', '0', '9', '_', '-', ' ', 'é'],
      ...['@', '[', '/', ':', '`', '{', '^', ',', '+'],
    );
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }), (list) => {
        const text = `run \${${list.join('')}} and \${params.${list.join('')}}`;
        expect(scanTemplate(text)).toEqual(scanTemplateReference(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads escapes, shell variables, malformed and nested braces as the manifest reference says', () => {
    const text = 'a $${params.x} ${HOME} ${ params.y } ${bad..p} ${a${tasks.t.outputs.o}} $$${run.id}';
    expect(scanTemplate(text)).toEqual(scanTemplateReference(text));
    expect(scanTemplate(text).refs.map((r) => r.text)).toEqual(['${ params.y }', '${tasks.t.outputs.o}']);
    expect(scanTemplate(text).malformed.map((m) => m.text)).toEqual(['${bad..p}']);
  });
});
