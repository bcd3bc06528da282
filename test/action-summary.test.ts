import { describe, expect, it } from 'vitest';
import { summaryMarkdown } from '../action/summary.ts';
import { sandboxNote } from '../action/run-action.ts';
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

describe('the job summary on the sandbox (GITHUB_ACTIONS=true)', () => {
  it('says sandbox: none and why when bubblewrap cannot be used on the job VM', () => {
    const note = sandboxNote({
      ok: false,
      reason: 'bubblewrap cannot make a sandbox here: Permission denied',
    });
    expect(note).toContain('**sandbox: none**');
    expect(note).toContain('the GitHub Actions job VM is the sandbox');
    expect(note).toContain('Permission denied');
    expect(summaryMarkdown([], () => undefined, note)).toContain(`### Sandbox\n\n${note}`);
  });
  it('says bwrap when bubblewrap works, and says nothing outside Actions', () => {
    expect(sandboxNote({ ok: true, path: '/usr/bin/bwrap' })).toContain('`sandbox: bwrap`');
    expect(summaryMarkdown([], () => undefined)).not.toContain('Sandbox');
  });
});
