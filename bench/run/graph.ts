/**
 * The benchmark graphs, generated identically for ninja and for Maestro: `layers` × `width`
 * tasks, each `true`, each (after the first layer) needing two tasks of the previous layer.
 * A width of 1 gives a chain (one need each).
 */
export interface BenchTask {
  id: string;
  needs: string[];
}

export function layeredGraph(layers: number, width: number): BenchTask[] {
  const id = (layer: number, index: number) => `t${layer}_${index}`;
  const tasks: BenchTask[] = [];
  for (let layer = 0; layer < layers; layer++)
    for (let index = 0; index < width; index++) {
      const needs =
        layer === 0 ? [] : [...new Set([id(layer - 1, index), id(layer - 1, (index + 1) % width)])];
      tasks.push({ id: id(layer, index), needs });
    }
  return tasks;
}

/** Ninja runs `command` through `/bin/sh -c`, as Maestro runs a string `run:`. */
export function toNinja(tasks: BenchTask[]): string {
  const lines = ['rule t', '  command = true', ''];
  for (const task of tasks)
    lines.push(task.needs.length ? `build ${task.id}: t ${task.needs.join(' ')}` : `build ${task.id}: t`);
  return lines.join('\n') + '\n';
}

export function toManifest(name: string, tasks: BenchTask[]): string {
  const lines = [
    'apiVersion: maestro/v1',
    'kind: Workflow',
    `metadata: { name: ${name}, namespace: bench }`,
    'spec:',
    '  defaults: { runner: local }',
    '  tasks:',
  ];
  for (const task of tasks)
    lines.push(
      task.needs.length
        ? `    - { id: ${task.id}, run: "true", needs: [${task.needs.join(', ')}] }`
        : `    - { id: ${task.id}, run: "true" }`,
    );
  return lines.join('\n') + '\n';
}
