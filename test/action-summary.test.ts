import { describe, expect, it } from 'vitest';
import { summaryMarkdown } from '../action/summary.ts';
import { annotationProperties } from '../action/annotate.ts';
import type { Diagnostic } from '../core/index.ts';
import type { ManifestReport } from '../workspace/index.ts';

const diagnostic: Diagnostic = {
  code: 'MS1008',
  severity: 'error',
  message: 'invalid duration "10 <minutes>"',
  hint: 'write <integer><unit>\nparts',
  pointer: '/spec/tasks/0/timeout',
  line: 4,
  column: 16,
  endLine: 4,
  endColumn: 26,
};

describe('job summary', () => {
  it('escapes diagnostic text so it cannot become HTML or break the table', () => {
    const report: ManifestReport = {
      file: 'a|b.yaml',
      valid: false,
      diagnostics: [diagnostic],
      name: 'x|y',
      source: '',
    };
    const md = summaryMarkdown([report], () => 'never drawn');
    expect(md).toContain('| `a\\|b.yaml` | x\\|y | ❌ invalid |');
    expect(md).toContain(
      '- **error** `MS1008` line 4, column 16: invalid duration "10 &lt;minutes&gt;" _(hint: write &lt;integer&gt;&lt;unit&gt; parts)_',
    );
    expect(md).not.toContain('never drawn');
    expect(md).toContain('1 of 1 manifest invalid: 1 error, 0 warnings.');
  });
});

describe('annotation properties', () => {
  it('carries columns only on a single-line span, as GitHub requires', () => {
    expect(annotationProperties('f.yaml', diagnostic)).toEqual({
      title: 'MS1008: invalid duration "10 <minutes>"',
      file: 'f.yaml',
      startLine: 4,
      endLine: 4,
      startColumn: 16,
      endColumn: 26,
    });
    expect(annotationProperties('f.yaml', { ...diagnostic, endLine: 6, endColumn: 3 })).toEqual({
      title: 'MS1008: invalid duration "10 <minutes>"',
      file: 'f.yaml',
      startLine: 4,
      endLine: 6,
    });
  });
});
