import { describe, expect, it } from 'vitest';
import { parseOutputsFile } from './outputs-file.ts';
import { createRedactor } from './redact.ts';

describe('parseOutputsFile', () => {
  it('reads key=value and heredoc values, later keys winning', () => {
    const text = 'a=1\r\nb<<END\nx\n=y<<z\nEND\n\na=2\nc=\n';
    expect(parseOutputsFile(text)).toEqual({ outputs: { a: '2', b: 'x\n=y<<z', c: '' }, problems: [] });
  });

  it('uses whichever of = and << comes first', () => {
    expect(parseOutputsFile('k=v<<w\n').outputs).toEqual({ k: 'v<<w' });
    expect(parseOutputsFile('k<<E=\nv\nE=\n').outputs).toEqual({ k: 'v' });
  });

  it('reports malformed lines and unclosed heredocs instead of guessing', () => {
    const parsed = parseOutputsFile('ok=1\njunk\nlong<<EOF\nnever closed\n');
    expect(parsed.outputs).toEqual({ ok: '1' });
    expect(parsed.problems).toEqual([
      'output line 2: expected key=value or key<<DELIMITER',
      'output line 3: no line "EOF" closes the value of "long"',
    ]);
  });
});

describe('createRedactor', () => {
  it('hides the longest secret whole and each line of a multi-line secret', () => {
    const redact = createRedactor(['abc', 'abcdef', 'line1\nline2', '']);
    expect(redact('x abcdef y abc')).toBe('x *** y ***');
    expect(redact('got line2 here')).toBe('got *** here');
    expect(redact('nothing')).toBe('nothing');
  });
});
