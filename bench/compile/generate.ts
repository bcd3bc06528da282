/**
 * Generated manifests for the compile benchmark: `count` tasks in layers of 50, each needing two
 * tasks of the previous layer, with params, env, expressions and a `when` every tenth task.
 */
export function generateManifest(count: number): string {
  const lines = [
    'apiVersion: maestro/v1',
    'kind: Workflow',
    'metadata:',
    `  name: bench-${count}`,
    '  namespace: bench',
    '  labels: { purpose: benchmark }',
    'spec:',
    '  params:',
    '    region: { type: string, default: eu-west-1 }',
    '    shards: { type: integer, default: 4 }',
    '  defaults:',
    '    runner: local',
    '    timeout: 10m',
    '    retry: { limit: 2, backoff: { initial: 1s, factor: 2, max: 1m }, jitter: full }',
    '  tasks:',
  ];
  for (let i = 0; i < count; i++) {
    const layer = Math.floor(i / 50);
    lines.push(`    - id: task_${i}`);
    lines.push(`      run: echo "task ${i} in \${params.region}"`);
    lines.push(`      env: { SHARD: "${i % 4}", LAYER: "${layer}" }`);
    if (layer > 0) {
      const base = (layer - 1) * 50;
      lines.push(`      needs: [task_${base + (i % 50)}, task_${base + ((i + 7) % 50)}]`);
    }
    if (i % 10 === 0) lines.push(`      when: "params.shards > 2"`);
    lines.push('      outputs: [result]');
  }
  return `${lines.join('\n')}\n`;
}
