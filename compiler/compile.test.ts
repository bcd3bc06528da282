import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../core/index.ts';
import type { Plan } from '../core/index.ts';
import { compileManifest } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const header = 'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: demo }\n';
const compile = (spec: string) =>
  compileManifest(`${header}spec:\n${spec}`, { catalog: testCatalog, file: 'm.yaml' });
const planOf = (spec: string): Plan => {
  const result = compile(spec);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.plan as Plan;
};

describe('compileManifest: plan', () => {
  it('applies defaults and records kind and name', () => {
    const result = compile('  tasks:\n    - id: a\n      run: echo a\n');
    expect(result.kind).toBe('Workflow');
    expect(result.name).toBe('demo');
    const task = result.plan?.tasks[0];
    expect(task).toMatchObject({
      id: 'a',
      declaredId: 'a',
      runner: 'local',
      resources: 'small',
      retry: { limit: 0, jitter: 'full', backoff: { initialMs: 1000, factor: 2, maxMs: 300000 } },
      cache: { enabled: false },
      needs: [],
      secrets: [],
    });
    expect(result.plan?.workflow).toEqual({
      kind: 'Workflow',
      name: 'demo',
      namespace: 'default',
      labels: {},
    });
    expect(result.plan?.triggers).toEqual({ manual: true });
  });

  it('merges spec.defaults field by field under the task', () => {
    const plan = planOf(`  defaults:
    runner: kubernetes
    timeout: 10m
    retry: { limit: 3, backoff: { initial: 2s, max: 1m } }
    env: { A: "1", B: 2 }
    cache: { enabled: true, ttl: 1h }
  tasks:
    - id: a
      run: x
      retry: { backoff: { factor: 3 } }
      env: { B: "own" }
    - id: b
      run: y
      timeout: 30s
      cache: { never: true }
`);
    const [a, b] = plan.tasks;
    expect(a?.runner).toBe('kubernetes');
    expect(a?.timeoutMs).toBe(600_000);
    expect(a?.retry).toEqual({
      limit: 3,
      jitter: 'full',
      backoff: { initialMs: 2000, factor: 3, maxMs: 60_000 },
    });
    expect(a?.env).toEqual({ A: '1', B: 'own' });
    expect(a?.cache).toEqual({ enabled: true, ttlMs: 3_600_000 });
    expect(b?.timeoutMs).toBe(30_000);
    expect(b?.cache).toEqual({ enabled: false });
  });

  it('binds shell expressions to MAESTRO_EXPR_<n> env vars, never splicing values into the script', () => {
    const plan = planOf(`  params: { name: { type: string, default: "x; rm -rf /" } }
  tasks:
    - id: a
      run: echo "\${params.name}" \${params.name} \${secrets.TOKEN} $HOME \${HOME} $\${literal}
`);
    const task = plan.tasks[0];
    expect(task?.action).toEqual({
      type: 'shell',
      script: 'echo "${MAESTRO_EXPR_0}" ${MAESTRO_EXPR_0} ${MAESTRO_EXPR_1} $HOME ${HOME} ${literal}',
    });
    expect(task?.env).toEqual({ MAESTRO_EXPR_0: '${params.name}', MAESTRO_EXPR_1: '${secrets.TOKEN}' });
    expect(task?.secrets).toEqual(['TOKEN']);
    expect(JSON.stringify(task?.action)).not.toContain('rm -rf');
  });

  it('keeps argv elements one per element and resolves catalog ranges to the highest match', () => {
    const plan = planOf(`  tasks:
    - id: a
      run: [deploy, "--env", "\${params.env}"]
    - id: b
      uses: tasks/http@1
      with: { url: "https://example.test" }
    - id: c
      uses: tasks/http@1.2.0
      with: { url: "https://example.test" }
    - id: d
      uses: tasks/http@2
      with: { href: "https://example.test" }
  params: { env: { type: string } }
`);
    expect(plan.tasks[0]?.action).toEqual({ type: 'argv', argv: ['deploy', '--env', '${params.env}'] });
    expect(plan.tasks.slice(1).map((t) => (t.action.type === 'catalog' ? t.action.version : ''))).toEqual([
      '1.2.7',
      '1.2.0',
      '2.0.0',
    ]);
    expect(plan.params.env).toEqual({ type: 'string', required: true });
  });

  it('expands a matrix with sorted keys and fans in on needs', () => {
    const plan = planOf(`  tasks:
    - id: build
      matrix: { os: [linux, macos], node: [22, 24] }
      run: ["build", "\${matrix.os}"]
    - id: ship
      needs: [build]
      run: ship
`);
    expect(plan.tasks.map((t) => t.id)).toEqual([
      'build[node=22,os=linux]',
      'build[node=22,os=macos]',
      'build[node=24,os=linux]',
      'build[node=24,os=macos]',
      'ship',
    ]);
    expect(plan.tasks[1]?.matrix).toEqual({ node: 22, os: 'macos' });
    expect(plan.tasks[4]?.needs).toHaveLength(4);
    expect(plan.edges.filter((e) => e.to === 'ship')).toHaveLength(4);
  });

  it('adds implicit edges from output references in templates and in `when`', () => {
    const plan = planOf(`  tasks:
    - id: deploy
      env: { V: "\${tasks.build.outputs.version}" }
      run: deploy
    - id: notify
      when: "tasks.check.outputs.ok == true"
      run: notify
    - id: build
      outputs: [version]
      run: build
    - id: check
      outputs: [ok]
      run: check
`);
    expect(plan.tasks.map((t) => t.id)).toEqual(['build', 'deploy', 'check', 'notify']);
    expect(plan.tasks.find((t) => t.id === 'deploy')?.needs).toEqual(['build']);
    expect(plan.tasks.find((t) => t.id === 'notify')?.needs).toEqual(['check']);
    expect(plan.edges).toEqual([
      { from: 'build', to: 'deploy' },
      { from: 'check', to: 'notify' },
    ]);
  });

  it('digest is sha256 of the canonical plan without digest (core digestOf), task digests likewise', () => {
    const result = compileManifest(
      `${header.replace('{ name: demo }', '{ name: demo, labels: { "10": a, "9": b } }')}spec:
  params: { z: { type: object, default: { "10": 1, "9": "é" } }, a: { type: number, default: 1.5 } }
  tasks:
    - id: a
      run: x
      env: { Z: "1", A: "\u00e9" }
    - id: b
      uses: tasks/echo@1
      with: { message: "hi", "10": 1, "9": { b: 1, a: [1, { y: 2, x: 1 }] } }
`,
      { catalog: testCatalog },
    );
    expect(result.diagnostics).toEqual([]);
    const plan = result.plan as Plan;
    const { digest, ...body } = plan;
    expect(digest).toBe(digestOf(body));
    for (const task of plan.tasks) {
      const { definitionDigest, ...rest } = task;
      expect(definitionDigest).toBe(digestOf(rest));
    }
    expect(canonicalJson(JSON.parse(JSON.stringify(plan)))).toBe(canonicalJson(plan));
  });

  it('digest is exact on the fast path too, whatever strings and nested keys the user writes', () => {
    const plan =
      planOf(`  params: { p: { type: object, default: { tasks: [], x: '"tasks":"\\\\ud800tasks"' } } }
  tasks:
    - id: a
      run: 'echo ,"declaredId":"a" "tasks":"\\ud800tasks"'
      env: { A: '"tasks":[]' }
`);
    const { digest, ...body } = plan;
    expect(digest).toBe(digestOf(body));
    const { definitionDigest, ...task } = plan.tasks[0] as Plan['tasks'][number];
    expect(definitionDigest).toBe(digestOf(task));
  });

  it('onInterrupt: the plan carries only `fail`; unset or `retry` (the default) leaves plan and digests as they were', () => {
    const task = (extra: string) => `  tasks:\n    - id: a\n      run: x\n${extra}`;
    const unset = planOf(task(''));
    const retry = planOf(task('      onInterrupt: retry\n'));
    const fail = planOf(task('      onInterrupt: fail\n'));
    expect(retry.digest).toBe(unset.digest);
    expect(retry.tasks[0]).toEqual(unset.tasks[0]);
    expect(unset.tasks[0]).not.toHaveProperty('onInterrupt');
    expect(fail.tasks[0]?.onInterrupt).toBe('fail');
    expect(fail.digest).not.toBe(unset.digest);
    expect(fail.tasks[0]?.definitionDigest).not.toBe(unset.tasks[0]?.definitionDigest);
    const { digest, ...body } = fail;
    expect(digest).toBe(digestOf(body));
  });

  it('onInterrupt: any other value is an error naming the field', () => {
    const result = compile('  tasks:\n    - id: a\n      run: x\n      onInterrupt: never\n');
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.severity, d.pointer])).toEqual([
      ['error', '/spec/tasks/0/onInterrupt'],
    ]);
    expect(result.diagnostics[0]?.message).toMatch(/retry|fail/);
  });

  it('reports warnings without withholding the plan', () => {
    const result = compile('  tasks:\n    - id: a\n      run: x\n      with: { y: 1 }\n      needs: []\n');
    expect(result.plan).toBeDefined();
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([['MS4005', 'warning']]);
  });
});

describe('compileManifest: diagnostics', () => {
  it('reports every problem at once with positions and pointers', () => {
    const result = compile(`  tasks:
    - id: a
      needs: [ghost]
      run: echo \${params.nope}
      timeout: soon
`);
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.line, d.column, d.pointer])).toEqual([
      ['MS2002', 7, 15, '/spec/tasks/0/needs/0'],
      ['MS3002', 8, 17, '/spec/tasks/0/run'],
      ['MS1008', 9, 16, '/spec/tasks/0/timeout'],
    ]);
  });

  it('places a reference error on the expression itself, even the second of two equal ones', () => {
    const result = compile(`  tasks:
    - id: a
      run: "echo ok \${params.x} and \${params.x}"
`);
    const [first, second] = result.diagnostics;
    expect([first?.line, first?.column, first?.endColumn]).toEqual([7, 21, 32]);
    expect([second?.line, second?.column, second?.endColumn]).toEqual([7, 37, 48]);
  });

  it('reports a cycle with its path at an edge of it', () => {
    const result = compile(`  tasks:
    - id: a
      needs: [b]
      run: a
    - id: b
      needs: [a]
      run: b
`);
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({
      code: 'MS2004',
      message: 'dependency cycle: a → b → a',
      pointer: '/spec/tasks/0/needs/0',
      line: 7,
      column: 15,
    });
  });

  it('places a cycle made by a condition on the reference in `when`', () => {
    const result = compile(`  tasks:
    - id: a
      outputs: [ok]
      when: "tasks.b.outputs.ok == true"
      run: a
    - id: b
      outputs: [ok]
      env: { X: "\${tasks.a.outputs.ok}" }
      run: b
`);
    expect(result.diagnostics.map((d) => [d.code, d.message, d.line, d.column, d.endColumn])).toEqual([
      ['MS2004', 'dependency cycle: a → b → a', 8, 14, 32],
    ]);
  });

  it('validates `with` against the catalog schema but leaves expression values to dispatch time', () => {
    const ok = compile(`  params: { u: { type: integer, default: 1 } }
  tasks:
    - id: a
      uses: tasks/http@1
      with: { url: "\${params.u}" }
`);
    expect(ok.diagnostics).toEqual([]);
    const bad = compile('  tasks:\n    - id: a\n      uses: tasks/http@1\n      with: { url: 5 }\n');
    expect(bad.diagnostics.map((d) => [d.code, d.pointer])).toEqual([['MS4004', '/spec/tasks/0/with/url']]);
  });

  it('refuses a catalog input schema whose pattern RE2 cannot express (lookahead)', () => {
    const result = compile('  tasks:\n    - id: a\n      uses: tasks/evil@1\n      with: { x: aaaa }\n');
    expect(result.diagnostics.map((d) => d.code)).toEqual(['MS4006']);
  });

  it('rejects an invalid version range', () => {
    const result = compile('  tasks:\n    - id: a\n      uses: "tasks/http@>>1"\n');
    expect(result.diagnostics.map((d) => d.code)).toEqual(['MS4003']);
  });
});

describe('compileManifest: trigger filter patterns', () => {
  const withTriggers = (triggers: string) =>
    compile(`  triggers:\n${triggers}  tasks:\n    - id: a\n      run: echo a\n`);

  it('accepts GitHub filter syntax and keeps the patterns in the plan', () => {
    const result = withTriggers(
      "    push:\n      branches: [main, 'releases/**', '!releases/**-alpha', 'v[12].[0-9]+']\n      paths: ['**.js', 'docs/*.md?']\n",
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.plan?.triggers.push?.branches).toEqual([
      'main',
      'releases/**',
      '!releases/**-alpha',
      'v[12].[0-9]+',
    ]);
  });

  it('an invalid pattern is a diagnostic on its own line', () => {
    const result = withTriggers(
      "    push:\n      branches:\n        - main\n        - 'release/[0-9'\n    pull_request:\n      paths: ['+x']\n",
    );
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.line])).toEqual([
      ['MS1011', '/spec/triggers/push/branches/1', 9],
      ['MS1011', '/spec/triggers/pull_request/paths/0', 11],
    ]);
    expect(result.diagnostics[0]?.message).toMatch(/never closed/);
  });

  it('a list of only negations is refused, as GitHub requires a positive pattern', () => {
    const result = withTriggers("    push:\n      branches: ['!main']\n");
    expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['MS1012', '/spec/triggers/push/branches'],
    ]);
  });

  it('an over-long pattern is refused by the schema at its line', () => {
    const result = withTriggers(`    push:\n      paths: ['${'a'.repeat(257)}']\n`);
    expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['MS1006', '/spec/triggers/push/paths/0'],
    ]);
  });
});
