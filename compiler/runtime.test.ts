// The helpers the engine calls at dispatch time: templates, conditions, durations, graphs.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../core/index.ts';
import {
  compileManifest,
  ConditionError,
  DurationError,
  evaluateCondition,
  ExpressionError,
  parseDuration,
  planToDot,
  planToMermaid,
  renderKnown,
  renderTemplate,
} from './index.ts';
import type { ExpressionScope } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const scope: ExpressionScope = {
  params: { region: 'eu', count: 3, tags: ['a', 'b'], ratio: 1.5 },
  secrets: { TOKEN: 's3cr3t' },
  workload: { identity: 'spiffe://maestro/run/1' },
  tasks: { build: { outputs: { version: '1.2.3', ok: 'true', n: '7' } } },
  matrix: { os: 'linux' },
  run: { id: 'run-1' },
};

describe('renderTemplate', () => {
  it('resolves every root, keeps the type of a whole-string expression and interpolates text', () => {
    expect(
      renderTemplate(
        {
          a: '${params.count}',
          b: 'n=${params.count} tags=${params.tags}',
          c: ['${secrets.TOKEN}', '${workload.identity}', '${run.id}', '${matrix.os}'],
          d: { e: 'v${tasks.build.outputs.version}' },
          f: 42,
          g: '$${params.region} ${HOME}',
        },
        scope,
      ),
    ).toEqual({
      a: 3,
      b: 'n=3 tags=["a","b"]',
      c: ['s3cr3t', 'spiffe://maestro/run/1', 'run-1', 'linux'],
      d: { e: 'v1.2.3' },
      f: 42,
      g: '${params.region} ${HOME}',
    });
  });

  it('throws a typed error for a missing value, never leaving the expression in place', () => {
    expect(() => renderTemplate('${secrets.NOPE}', scope)).toThrow(ExpressionError);
    expect(() => renderTemplate('x ${params.missing}', scope)).toThrow(/params\.missing/);
    expect(() => renderTemplate('${params.toString}', scope)).toThrow(ExpressionError);
  });

  it('does not let a `__proto__` key reach the prototype', () => {
    const out = renderTemplate(
      JSON.parse('{"__proto__": {"polluted": "${params.region}"}}'),
      scope,
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('renderKnown', () => {
  it('renders what the scope knows and leaves a string with anything unknown as written', () => {
    const before = { params: { url: 'https://data.example.org/x' }, matrix: { os: 'linux' } };
    expect(
      renderKnown(
        {
          url: '${params.url}',
          mixed: '${params.url}?token=${secrets.TOKEN}',
          list: ['${matrix.os}', '${tasks.build.outputs.version}'],
          n: 1,
        },
        before,
      ),
    ).toEqual({
      url: 'https://data.example.org/x',
      mixed: '${params.url}?token=${secrets.TOKEN}',
      list: ['linux', '${tasks.build.outputs.version}'],
      n: 1,
    });
  });
});

describe('evaluateCondition', () => {
  it('evaluates CEL against the scope; outputs true/false are booleans, numbers are numbers', () => {
    expect(evaluateCondition("params.region == 'eu' && params.count > 2", scope)).toBe(true);
    expect(evaluateCondition('tasks.build.outputs.ok == true', scope)).toBe(true);
    expect(evaluateCondition("int(tasks.build.outputs.n) > 5 && matrix.os == 'linux'", scope)).toBe(true);
    expect(evaluateCondition('params.ratio < 1.0', scope)).toBe(false);
    expect(evaluateCondition("'a' in params.tags", scope)).toBe(true);
  });

  it('throws a typed error on a failure or a non-boolean result', () => {
    expect(() => evaluateCondition('params.count', scope)).toThrow(ConditionError);
    expect(() => evaluateCondition('params.nope.deeper == 1', scope)).toThrow(ConditionError);
    expect(() => evaluateCondition('(', scope)).toThrow(ConditionError);
  });
});

describe('parseDuration', () => {
  it('parses units and compound durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
  });
  it('rejects anything else with a typed error', () => {
    for (const bad of ['', '10', 'm', '1.5s', '10 m', '-1s', '1y', `${'9'.repeat(70)}s`])
      expect(() => parseDuration(bad), bad).toThrow(DurationError);
  });
});

describe('graphs', () => {
  const plan = compileManifest(
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: g }
spec:
  tasks:
    - { id: build, run: b, matrix: { os: [linux, "mac\\"os"] } }
    - { id: ship, run: s, needs: [build] }
`,
    { catalog: testCatalog },
  ).plan as Plan;

  it('mermaid has a node per task and an edge per plan edge, labels escaped', () => {
    const text = planToMermaid(plan);
    expect(text.startsWith('flowchart TD\n')).toBe(true);
    expect(text.match(/-->/g)).toHaveLength(plan.edges.length);
    expect(text).toContain('t1["build[os=mac#34;os]"]');
    expect(text).toContain('t0 --> t2');
  });

  it('dot quotes every id', () => {
    const text = planToDot(plan);
    expect(text).toContain('"build[os=mac\\"os]" -> "ship";');
    expect(text.match(/->/g)).toHaveLength(plan.edges.length);
  });
});
