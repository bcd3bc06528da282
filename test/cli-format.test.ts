import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../core/index.ts';
import type { ManifestReport } from '../workspace/index.ts';
import { renderTextReport } from '../cli/format/render-text.ts';
import { renderJsonReport } from '../cli/format/render-json.ts';
import { escapeData, escapeProperty, renderGithubReport } from '../cli/format/render-github.ts';
import { renderSourceExcerpt } from '../cli/format/source-excerpt.ts';

// Hand-made reports: the renderers must not depend on what the compiler happens to say.
const source = [
  'apiVersion: maestro/v1',
  'kind: Workflow',
  'metadata: { name: demo }',
  'spec:',
  '  tasks:',
  '    - id: test',
  '      needs: [biuld]',
  '      run: npm test',
].join('\n');

function diagnostic(over: Partial<Diagnostic> = {}): Diagnostic {
  return {
    code: 'MS2002',
    severity: 'error',
    message: 'task "test" needs "biuld", which does not exist',
    hint: 'did you mean "build"?',
    pointer: '/spec/tasks/0/needs/0',
    line: 7,
    column: 15,
    endLine: 7,
    endColumn: 20,
    ...over,
  };
}

function report(diagnostics: Diagnostic[], file = 'w/.maestro/workflows/demo.yaml'): ManifestReport {
  return { file, valid: !diagnostics.some((d) => d.severity === 'error'), diagnostics, source };
}

describe('source excerpt', () => {
  it('puts a caret under the column and tildes up to endColumn', () => {
    const [line, marker] = renderSourceExcerpt(source, diagnostic());
    expect(line).toBe(' 7 |       needs: [biuld]');
    expect(marker).toBe('   |               ^~~~~');
    // The caret sits exactly under the first character of the span.
    expect(line!.indexOf('biuld')).toBe(marker!.indexOf('^'));
  });

  it('shows a single caret when the span continues on another line', () => {
    const [, marker] = renderSourceExcerpt(
      source,
      diagnostic({ line: 5, column: 3, endLine: 8, endColumn: 3 }),
    );
    expect(marker).toBe('   |   ^');
  });

  it('shows a window of a very long line, with the caret still under the column', () => {
    const long = 'key: [' + 'a, '.repeat(5000) + 'bad, ' + 'b, '.repeat(5000) + ']';
    const column = long.indexOf('bad') + 1;
    const [line, marker] = renderSourceExcerpt(`x: 1\n${long}\n`, {
      line: 2,
      column,
      endLine: 2,
      endColumn: column + 3,
    });
    expect(line!.length).toBeLessThan(200);
    expect(line!.startsWith(' 2 | …')).toBe(true);
    expect(line!.endsWith('…')).toBe(true);
    expect(line!.slice(marker!.indexOf('^'), marker!.indexOf('^') + 3)).toBe('bad');
    expect(marker!.endsWith('^~~')).toBe(true);
  });

  it('handles CRLF line ends', () => {
    const [line, marker] = renderSourceExcerpt('a: 1\r\nb: [x]\r\n', {
      line: 2,
      column: 5,
      endLine: 2,
      endColumn: 6,
    });
    expect(line).toBe(' 2 | b: [x]');
    expect(marker).toBe('   |     ^');
  });

  it('prints nothing for a line outside the file', () => {
    expect(renderSourceExcerpt(source, diagnostic({ line: 99, endLine: 99 }))).toEqual([]);
  });
});

describe('text report', () => {
  it('renders file:line:col, severity and code, the excerpt, the hint and a summary', () => {
    const text = renderTextReport([report([diagnostic()])], { color: false });
    expect(text.split('\n')).toEqual([
      'w/.maestro/workflows/demo.yaml:7:15: error[MS2002]: task "test" needs "biuld", which does not exist',
      ' 7 |       needs: [biuld]',
      '   |               ^~~~~',
      ' = hint: did you mean "build"?',
      '',
      '1 file checked: 1 invalid (1 error, 0 warnings)',
      '',
    ]);
  });

  it('counts warnings without failing the file and says ok for clean files', () => {
    const warn = diagnostic({ severity: 'warning', code: 'MS2006', hint: undefined });
    const text = renderTextReport([report([warn], 'a.yaml'), report([], 'b.yaml')], { color: false });
    expect(text).toContain('a.yaml:7:15: warning[MS2006]');
    expect(text).not.toContain('hint');
    expect(text).toContain('ok b.yaml');
    expect(text.trimEnd().split('\n').at(-1)).toBe('2 files checked: all valid (0 errors, 1 warning)');
  });

  it('colours only when asked', () => {
    expect(renderTextReport([report([diagnostic()])], { color: true })).toContain('\x1b[31merror[MS2002]');
    expect(renderTextReport([report([diagnostic()])], { color: false })).not.toContain('\x1b[');
  });
});

describe('json report', () => {
  it('has exactly the promised keys in the promised order, hint null when absent', () => {
    const json = JSON.parse(
      renderJsonReport([report([diagnostic(), diagnostic({ hint: undefined, line: 8, endLine: 8 })])]),
    ) as { files: Array<Record<string, unknown> & { diagnostics: Array<Record<string, unknown>> }> };
    expect(Object.keys(json)).toEqual(['files']);
    const [file] = json.files;
    expect(Object.keys(file!)).toEqual(['file', 'valid', 'diagnostics']);
    expect(file!['valid']).toBe(false);
    expect(Object.keys(file!.diagnostics[0]!)).toEqual([
      'code',
      'severity',
      'message',
      'hint',
      'pointer',
      'line',
      'column',
      'endLine',
      'endColumn',
    ]);
    expect(file!.diagnostics[1]!['hint']).toBeNull();
  });
});

describe('github report', () => {
  it('escapes data and properties as the Actions toolkit does', () => {
    expect(escapeData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext');
    expect(escapeProperty('a:b,c%\n')).toBe('a%3Ab%2Cc%25%0A');
  });

  it('prints one workflow command per diagnostic with position and title', () => {
    const out = renderGithubReport([
      report(
        [diagnostic(), diagnostic({ severity: 'warning', message: 'x: y, z', hint: undefined })],
        'a,b.yaml',
      ),
    ]);
    expect(out.split('\n')).toEqual([
      '::error file=a%2Cb.yaml,line=7,col=15,endLine=7,endColumn=20,title=MS2002%3A task "test" needs "biuld"%2C which does not exist::task "test" needs "biuld", which does not exist%0Ahint: did you mean "build"?',
      '::warning file=a%2Cb.yaml,line=7,col=15,endLine=7,endColumn=20,title=MS2002%3A x%3A y%2C z::x: y, z',
      '',
    ]);
  });
});
