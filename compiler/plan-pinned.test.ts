// Pins the plan of fixed manifests to what the compiler produced before the planner's
// performance work (issue 18): the plan digest, every task's definition digest and the exact
// bytes of the plan object (JSON.stringify, key order included). The values were computed by
// the compiler at f131cd4, not written by hand: a faster planner must reproduce them exactly.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../core/index.ts';
import type { Plan } from '../core/index.ts';
import { compileManifest } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const fixture = `
apiVersion: maestro/v1
kind: Workflow
metadata:
  name: pinned
  namespace: team-a
  labels: { tier: critical, "10": ten, "9": nine }
spec:
  params:
    region: { type: string, default: eu-west-1, description: Where }
    shards: { type: integer, default: 4 }
    conf: { type: object, default: { z: 1, a: { y: [2, { d: 1, c: 0 }], x: "é" } } }
    ticket: { type: string }
  policy: { purpose: ci, authority: "team:leads", license: internal }
  approvals: { required: 2, from: [team:leads, codeowners] }
  budget: { limit: 12.5 }
  triggers:
    push: { branches: [main] }
    pull_request: { branches: [main], paths: ['src/**'] }
    schedule: ["0 3 * * *", { cron: "30 4 * * 1", timezone: Europe/Paris }]
    manual: true
  timeout: 45m
  defaults:
    runner: local
    resources: medium
    timeout: 10m
    retry: { limit: 2, backoff: { initial: 500ms, factor: 3, max: 1m }, jitter: none }
    cache: { enabled: true, ttl: 2h }
    env: { REGION: "\${params.region}", ZED: last, ALPHA: first }
  tasks:
    - id: build
      description: builds
      run: |
        echo "building \${params.region} for \${params.ticket}" $\${literal}
        echo again \${params.region} and \${secrets.TOKEN}
      env: { B: "2", A: "1" }
      outputs: [artifact, digest]
      artifacts: [dist/, out/logs, report.txt]
      cache: { enabled: true, ttl: 1h }
    - id: test
      needs: [build]
      matrix: { suite: [unit, integration], node: [22, 24] }
      run: [node, --test, "\${matrix.suite}", "\${tasks.build.outputs.artifact}"]
      env: { SUITE: "\${matrix.suite}", NODE: "\${matrix.node}" }
      retry: { limit: 5, backoff: { maxDuration: 10m } }
      outputs: [passed]
    - id: notify
      uses: tasks/echo@1
      with: { message: "built \${tasks.build.outputs.digest}", "9": { b: 1, a: [1, { y: 2, x: 1 }] }, "10": 1 }
      when: "params.shards > 2"
      ifSkipped: run
      cache: { never: true }
      onInterrupt: fail
    - id: image_task
      image: alpine:3.20
      command: [sh, -c]
      args: ["echo \${params.region}"]
      needs: [test]
      runner: kubernetes
      resources: large
      network: none
      placement: { deferrable: true, deadline: 6h }
      timeout: 90s
    - id: host
      run: "kill \${tasks.build.outputs.digest}"
      hostAccess: true
      needs: [notify, build]
      cache: { enabled: false }
`;

/** A generated manifest exercising each planner branch on many tasks (layers of ten). */
function generated(count: number): string {
  const lines = [
    'apiVersion: maestro/v1',
    'kind: Workflow',
    'metadata: { name: generated }',
    'spec:',
    '  params: { region: { type: string, default: eu-west-1 }, shards: { type: integer, default: 4 } }',
    '  defaults: { timeout: 10m, env: { Z: "1", A: "${params.region}" }, retry: { limit: 2 } }',
    '  tasks:',
  ];
  for (let i = 0; i < count; i++) {
    const layer = Math.floor(i / 10);
    lines.push(`    - id: t${i}`);
    if (i % 7 === 3)
      lines.push(
        `      uses: tasks/echo@1`,
        `      with: { message: "m ${i}", z${i % 3}: { b: ${i}, a: [x, y] } }`,
      );
    else if (i % 11 === 5) lines.push(`      run: [sh, -c, "echo ${i} \${params.region}"]`);
    else lines.push(`      run: echo "task ${i} in \${params.region} \${params.region} $\${not}"`);
    lines.push(
      `      env: { SHARD: "${i % 4}", LAYER: "${layer}"${i % 5 === 0 ? `, SECRET: "\${secrets.S${i % 3}}"` : ''} }`,
    );
    if (layer > 0)
      lines.push(`      needs: [t${(layer - 1) * 10 + (i % 10)}, t${(layer - 1) * 10 + ((i + 3) % 10)}]`);
    if (i % 10 === 0) lines.push(`      when: "params.shards > ${i % 3}"`);
    if (i % 13 === 0) lines.push(`      matrix: { k: [a, b], n: [${i}, 2] }`);
    if (i % 9 === 0) lines.push(`      retry: { limit: ${i % 4}, backoff: { initial: 2s } }`);
    if (i % 6 === 0) lines.push(`      cache: { enabled: true, ttl: ${1 + (i % 5)}h }`);
    if (i % 8 === 0) lines.push(`      artifacts: [out${i}/]`);
    if (i % 3 !== 0) lines.push(`      outputs: [result, z${i % 2}]`);
  }
  return `${lines.join('\n')}\n`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function planOf(text: string): Plan {
  const result = compileManifest(text, { catalog: testCatalog });
  expect(result.diagnostics).toEqual([]);
  return result.plan as Plan;
}

describe('plan pinned to the compiler before the planner rewrite', () => {
  it('a manifest using every plan field keeps its digests and bytes', () => {
    const plan = planOf(fixture);
    expect(plan.digest).toBe('sha256:7a2b6ec1a8a74dec088bc02eb5ab8c9e84d7e97dac5b36ac92d7f512ccef3306');
    expect(plan.tasks.map((t) => `${t.id} ${t.definitionDigest}`)).toEqual([
      'build sha256:82e27f03e061456edd08e1a54bb2aebbfa9b00470a2fa8e00ace6505e1d042cd',
      'test[node=22,suite=unit] sha256:aa5a03e489ec94e202cc7d8ac5726b8d01fbe0629a8fa0e2fe2f66394a0b86e3',
      'test[node=22,suite=integration] sha256:94b2a5868c01964efcb939065cc692a75a65cd9da19ac630c3aee7a423d9928a',
      'test[node=24,suite=unit] sha256:2023543b1d6590081d55fe7ec7c280888e45b7e339f8f694bc34528313c8e18c',
      'test[node=24,suite=integration] sha256:0f41a3c88d29be8694906439dbbaee43a73d40322f23e1d1775114ef59bb9964',
      'notify sha256:fd88376f6010c3b2875f502d4f02749838af00ff046f10a952300044579e9d2d',
      'image_task sha256:342be39f798f1fbac5e22c5b13733e5f41666be86f61ef62c73617602237cf40',
      'host sha256:afa851d7ceda4e654bddaf724c0560da24d53c2dbb5a534764832155b1524844',
    ]);
    expect(sha256(JSON.stringify(plan))).toBe(
      '21c28ad69008670d6891afc1aa7a6a2345dace75f75c561c6a6a8272e087a672',
    );
  });

  it('a generated 300-task manifest (matrices, uses, secrets, retries, caches) keeps its digest and bytes', () => {
    const plan = planOf(generated(300));
    expect(plan.tasks).toHaveLength(372);
    expect(plan.digest).toBe('sha256:705b6feb67ea784152a322e5578608f69207d1f107b32b48f0281d15ba47cb6f');
    expect(sha256(JSON.stringify(plan))).toBe(
      'cd40c7100542374e5fdb5e784ac37a7f3c55afde7d754985f92ac2457c1d65e9',
    );
  });

  it('a run string with more expressions than the short search takes (repeats, `$${`, ${HOME}) keeps its bytes', () => {
    // More than eight expressions: the planner numbers them through a Map instead of a search.
    // Values computed by the compiler at 538403d, before the planner's env and action change.
    const params = Array.from({ length: 10 }, (_, i) => `    p${i}: { type: string, default: v${i} }`);
    const refs = Array.from({ length: 12 }, (_, i) => `\${params.p${(i * 7) % 10}}`).join(' ');
    const plan = planOf(
      [
        'apiVersion: maestro/v1',
        'kind: Workflow',
        'metadata: { name: many }',
        'spec:',
        '  params:',
        ...params,
        '  tasks:',
        '    - id: many',
        `      run: "echo ${refs} \${params.p3} $\${kept} \${HOME}"`,
        '      env: { Z: "1", A: "2" }',
        '    - id: plain',
        '      run: "echo $${only} and ${HOME}"',
        '',
      ].join('\n'),
    );
    expect(plan.digest).toBe('sha256:2375f5ed4b870c79f72520b03ceb770f0ba446dea0c97256296de225a3153e83');
    expect(sha256(JSON.stringify(plan))).toBe(
      'dc861c695f9dcdbf045a3a45158b4dc5279bd270400a134b555882772cf8eab4',
    );
  });

  it('non-ASCII task texts and a task larger than the hasher buffer (64 KB) keep their bytes', () => {
    // The plan hasher writes task texts as UTF-8 into a reused buffer and splices each
    // definition digest into the bytes. Values computed by the compiler at 321add7, before that.
    const long = 'x'.repeat(9_000);
    const wideEnv = Array.from({ length: 8 }, (_, i) => `E${i}: "${long}${i} ñ"`).join(', ');
    const plan = planOf(
      [
        'apiVersion: maestro/v1',
        'kind: Workflow',
        'metadata: { name: wide }',
        'spec:',
        '  params: { region: { type: string, default: "ré-1" } }',
        '  tasks:',
        '    - id: accents',
        '      run: "echo café ${params.region} 日本 🎉"',
        '      env: { GREETING: "héllo", ZED: "ß" }',
        '    - id: huge',
        '      needs: [accents]',
        `      run: "echo ${long} ñ \${params.region}"`,
        `      env: { ${wideEnv} }`,
        '    - id: after',
        '      needs: [huge]',
        '      run: "echo ünïcode"',
        '',
      ].join('\n'),
    );
    expect(plan.digest).toBe('sha256:8bf145bbca233de32abe1e45a0671e9093c86eb286dd51ee8d1d394d97f25a62');
    expect(sha256(JSON.stringify(plan))).toBe(
      'f7f6783be591c5cc59d16ca817875646ca66921c53a365c64c44f342c35e47eb',
    );
  });

  it('env: task values over defaults, and more than ten expressions (`_10` sorts before `_2`), keep their bytes', () => {
    // Values computed by the compiler at 321add7, before the env was built from sorted names.
    const params = Array.from({ length: 12 }, (_, i) => `    p${i}: { type: string, default: v${i} }`);
    const refs = Array.from({ length: 12 }, (_, i) => `\${params.p${11 - i}}`).join(' ');
    const plan = planOf(
      [
        'apiVersion: maestro/v1',
        'kind: Workflow',
        'metadata: { name: overrides }',
        'spec:',
        '  params:',
        ...params,
        '  defaults: { env: { SHARED: from-defaults, ONLY_DEFAULT: d, A_FIRST: "1" } }',
        '  tasks:',
        '    - id: twelve',
        `      run: "echo ${refs}"`,
        '      env: { SHARED: from-task, Z_LAST: z, M: 3 }',
        '    - id: inherits',
        '      run: "echo ${params.p0}"',
        '',
      ].join('\n'),
    );
    expect(plan.tasks[0]?.env.SHARED).toBe('from-task');
    expect(plan.digest).toBe('sha256:6e86608ffea3b043b20b3997bc1814c4b0b771eab024346c0449a552608747de');
    expect(sha256(JSON.stringify(plan))).toBe(
      'e2b6a0d8e90b43efc58d1f76f4289c26366acbea273c985066275c92085e1265',
    );
  });

  it('generated manifests of every size: digests are core digestOf of the plan and of each task', () => {
    for (const count of [1, 7, 23, 61]) {
      const plan = planOf(generated(count));
      const { digest, ...body } = plan;
      expect(digest).toBe(digestOf(body));
      for (const task of plan.tasks) {
        const { definitionDigest, ...rest } = task;
        expect(definitionDigest).toBe(digestOf(rest));
      }
    }
  });
});
