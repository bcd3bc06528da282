import { describe, expect, it } from 'vitest';
import type { Plan } from '../../core/index.ts';
import type { CompiledManifest } from '../source/compile-snapshot.ts';
import type { RepositorySnapshot } from '../source/read-repository.ts';
import { changedControlPaths, rulesByWorkflow, type RuleInputs } from './approval-rules.ts';

const FILE = '.maestro/workflows/deploy.yaml';

function plan(options: { approvals?: Plan['approvals']; secrets?: string[]; name?: string }): Plan {
  return {
    digest: `sha256:${(options.name ?? 'deploy').padEnd(64, '0')}`,
    workflow: { name: options.name ?? 'deploy', namespace: 'demo', labels: {} },
    ...(options.approvals ? { approvals: options.approvals } : {}),
    tasks: [{ id: 't', runner: 'local', secrets: options.secrets ?? [], action: { type: 'run' } }],
  } as unknown as Plan;
}

function commit(
  plans: Record<string, Plan>,
  extra: Partial<RepositorySnapshot> = {},
): { snapshot: RepositorySnapshot; compiled: CompiledManifest[] } {
  return {
    snapshot: { sha: 'x', manifests: [], ...extra },
    compiled: Object.entries(plans).map(([file, p]) => ({ file, plan: p, diagnostics: [] })),
  };
}

const inputs = (base: RuleInputs['base'], head: RuleInputs['head']): RuleInputs => ({
  base,
  head,
  sensitive: () => undefined,
  defaultRequired: 1,
  baseOwnersOf: (path) => (path.startsWith('.maestro/') ? ['@bob'] : []),
});

describe('rulesByWorkflow: the base sets the rules, the head can only add', () => {
  it('a head that drops the approvals block keeps the base rule and adds change-control from the base owners', () => {
    const rules = rulesByWorkflow(
      inputs(
        commit({ [FILE]: plan({ approvals: { required: 2, from: [] } }) }),
        commit({ [FILE]: plan({}) }),
      ),
    ).get('demo/deploy')!;
    expect(rules.map((r) => [r.source, r.required, r.from])).toEqual([
      ['base', 2, []],
      ['change-control', 1, ['@bob']],
    ]);
    expect(rules[1]!.exactHead).toBe(true);
  });
  it('a head that declares a requirement adds it to the base one (both must be met)', () => {
    const same = { required: 1, from: ['carol'] };
    const rules = rulesByWorkflow(
      inputs(commit({ [FILE]: plan({ approvals: same }) }), commit({ [FILE]: plan({ approvals: same }) })),
    ).get('demo/deploy')!;
    expect(rules.map((r) => r.source)).toEqual(['base', 'head']);
  });
  it('a workflow only the head has is gated by the default when it uses a secret, not otherwise', () => {
    expect(
      rulesByWorkflow(inputs(commit({}), commit({ [FILE]: plan({ secrets: ['TOKEN'] }) }))).get(
        'demo/deploy',
      ),
    ).toEqual([{ required: 1, from: [], source: 'default', file: FILE }]);
    expect(rulesByWorkflow(inputs(commit({}), commit({ [FILE]: plan({}) }))).size).toBe(0);
  });
  it('a changed CODEOWNERS or policy file gates every workflow; a new manifest with its own approvals does not', () => {
    const owners = (sha: string) => ({ codeowners: { path: '.github/CODEOWNERS', sha, content: '' } });
    expect(changedControlPaths({ base: commit({}, owners('a')), head: commit({}, owners('b')) })).toEqual([
      '.github/CODEOWNERS',
    ]);
    expect(
      changedControlPaths({
        base: commit({}, { policyFiles: [{ path: '.maestro/policy/deny.rego', sha: 'a' }] }),
        head: commit({}),
      }),
    ).toEqual(['.maestro/policy/deny.rego']);
    expect(
      changedControlPaths({
        base: commit({}),
        head: commit({ [FILE]: plan({ approvals: { required: 1, from: [] } }) }),
      }),
    ).toEqual([]);
    const rules = rulesByWorkflow(
      inputs(commit({ [FILE]: plan({}) }, owners('a')), commit({ [FILE]: plan({}) }, owners('b'))),
    ).get('demo/deploy')!;
    // No base owner for CODEOWNERS itself: the default requirement.
    expect(rules).toEqual([
      expect.objectContaining({
        source: 'change-control',
        required: 1,
        from: [],
        paths: ['.github/CODEOWNERS'],
      }),
    ]);
  });
});
