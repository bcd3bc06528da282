import { describe, expect, it } from 'vitest';
import { compileManifest } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const compile = (spec: string) =>
  compileManifest(`apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: demo }\nspec:\n${spec}`, {
    catalog: testCatalog,
    file: 'm.yaml',
  });

describe('MAESTRO_* env names are reserved', () => {
  it('a task cannot set the egress allow-list policy decides (or any MAESTRO_ variable), at its line', () => {
    const result = compile(
      [
        '  defaults:',
        '    env: { maestro_output: /tmp/x }',
        '  tasks:',
        '    - id: fetch',
        '      run: echo hi',
        '      env:',
        '        REGION: eu',
        `        MAESTRO_EGRESS_ALLOWED_HOSTS: '["evil.example"]'`,
        '',
      ].join('\n'),
    );
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.line])).toEqual([
      ['MS1016', '/spec/defaults/env/maestro_output', 6],
      ['MS1016', '/spec/tasks/0/env/MAESTRO_EGRESS_ALLOWED_HOSTS', 12],
    ]);
    expect(result.diagnostics[1]?.message).toContain('`MAESTRO_EGRESS_ALLOWED_HOSTS` is reserved');
  });

  it('other names, and expressions the compiler binds to MAESTRO_EXPR_<n> itself, are fine', () => {
    const result = compile(
      "  tasks:\n    - id: a\n      env: { MY_MAESTRO: x }\n      run: echo '${run.id}'\n",
    );
    expect(result.diagnostics).toEqual([]);
    expect(Object.keys(result.plan?.tasks[0]?.env ?? {})).toContain('MAESTRO_EXPR_0');
  });
});
