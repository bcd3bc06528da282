import { describe, expect, it } from 'vitest';
import { parseOutputsFile } from './outputs-file.ts';

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

  it('keeps only declared outputs when some are declared, heredoc values included', () => {
    const text = 'answer=42\nnotes<<EOF\none\ntwo\nEOF\nundeclared=x\n';
    expect(parseOutputsFile(text, ['answer', 'notes']).outputs).toEqual({ answer: '42', notes: 'one\ntwo' });
    expect(parseOutputsFile(text).outputs).toEqual({ answer: '42', notes: 'one\ntwo', undeclared: 'x' });
  });
});
