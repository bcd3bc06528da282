// The compiler's half of repository tasks: pure resolution against what the surface read.
import { describe, expect, it } from 'vitest';
import { withRepositoryTasks } from '../core/index.ts';
import type { CatalogEntry } from '../core/index.ts';
import { compileManifest } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const notes: CatalogEntry = {
  name: './.maestro/tasks/notes',
  version: '1.0.0',
  description: 'notes',
  digest: `sha256:${'a'.repeat(64)}`,
  inputs: { type: 'object', additionalProperties: false, properties: { items: { type: 'integer' } } },
  outputs: ['count'],
  entry: '.maestro/tasks/notes/index.ts',
};
const catalog = withRepositoryTasks(testCatalog, {
  root: '/repo',
  byName: new Map([
    ['notes', { entry: notes }],
    [
      'bad',
      {
        problem: {
          code: 'repository_task_invalid',
          message: '/repo/.maestro/tasks/bad/task.json is missing',
          hint: 'add it',
        },
      },
    ],
  ]),
});

const manifest = (uses: string, extra = '') => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: w, namespace: n }
spec:
  tasks:
    - id: a
      uses: ${uses}
${extra}`;

function compile(text: string, withCatalog = catalog) {
  return compileManifest(new TextEncoder().encode(text), { file: 'w.yaml', catalog: withCatalog });
}

describe('uses: ./.maestro/tasks/<name>', () => {
  it('resolves to a plan action naming the folder, its entry and its digest; its outputs are known', () => {
    const result = compile(
      manifest(
        './.maestro/tasks/notes',
        '      with: { items: 2 }\n    - id: b\n      run: echo ${tasks.a.outputs.count}\n',
      ),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.plan?.tasks[0]?.action).toEqual({
      type: 'catalog',
      ref: './.maestro/tasks/notes',
      name: './.maestro/tasks/notes',
      version: '1.0.0',
      digest: notes.digest,
      entry: '.maestro/tasks/notes/index.ts',
    });
  });

  it('type-checks with: against the folder’s input schema', () => {
    const result = compile(manifest('./.maestro/tasks/notes', '      with: { items: two }\n'));
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([['MS4004', 8]]);
  });

  it.each([
    ['./.maestro/tasks/../../etc', 'MS4007'],
    ['./.maestro/tasks/a/b', 'MS4007'],
    ['./.maestro/tasks/..', 'MS4007'],
    ['./.maestro/tasks/nowhere', 'MS4008'],
    ['./.maestro/tasks/bad', 'MS4009'],
  ])('%s is %s at the uses: line', (uses, code) => {
    const result = compile(manifest(uses));
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([[code, 7]]);
  });

  it('without a source read, says so (a remote --source, a compile with no repository)', () => {
    const result = compile(manifest('./.maestro/tasks/notes'), testCatalog);
    expect(result.diagnostics[0]).toMatchObject({ code: 'MS4008' });
    expect(result.diagnostics[0]?.message).toContain('no workflow source was read');
  });

  it('a built-in name never resolves to a repository task (tasks/notes is the catalog’s)', () => {
    const result = compile(manifest('tasks/notes@1'));
    expect(result.diagnostics[0]).toMatchObject({ code: 'MS4001' });
  });
});
