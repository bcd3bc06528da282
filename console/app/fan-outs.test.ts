/**
 * Fan-outs as one box (pure): matrix expansions grouped by declared id, a collapsed group's edges
 * remapped onto its box (deduplicated, none to itself), positions untouched, and the box's state
 * the members' most urgent one.
 */
import { describe, expect, it } from 'vitest';
import type { ApiBody } from '../../core/index.ts';
import { collapsedGraph, declaredId, fanOutsOf, groupState, groupSummary } from './fan-outs.ts';

const node = (id: string, x: number, needs: string[] = []): ApiBody.GraphNode => ({
  id,
  x,
  y: 0,
  needs,
  estimateMs: 10,
});
const graph: ApiBody.RunGraph = {
  planDigest: 'sha256:p',
  width: 100,
  height: 100,
  nodeWidth: 10,
  nodeHeight: 5,
  nodes: [
    node('prep', 0),
    node('build[os=a]', 20, ['prep']),
    node('build[os=b]', 20, ['prep']),
    node('lint[x=1]', 20, ['prep']), // a matrix of one: not a fan-out
    node('ship', 40, ['build[os=a]', 'build[os=b]', 'lint[x=1]']),
  ],
};

describe('fan-outs', () => {
  it('groups the expansions of one declared task, two or more', () => {
    expect(declaredId('build[os=a]')).toBe('build');
    expect(declaredId('prep')).toBeUndefined();
    expect([...fanOutsOf(graph.nodes).values()]).toEqual([
      { id: 'build', members: ['build[os=a]', 'build[os=b]'] },
    ]);
  });

  it('draws a collapsed group as one box with its members’ edges, and nothing moves', () => {
    const shown = collapsedGraph(graph, fanOutsOf(graph.nodes), new Set(['build']));
    expect(shown.nodes.map((n) => [n.id, n.x, n.needs])).toEqual([
      ['prep', 0, []],
      ['build', 20, ['prep']],
      ['lint[x=1]', 20, ['prep']],
      ['ship', 40, ['build', 'lint[x=1]']],
    ]);
    expect(collapsedGraph(graph, fanOutsOf(graph.nodes), new Set())).toBe(graph);
  });

  it('shows the most urgent state and the counts', () => {
    expect(groupState(['succeeded', 'failed', 'running'])).toBe('failed');
    expect(groupState(['succeeded', 'running'])).toBe('running');
    expect(groupState(['succeeded', 'succeeded'])).toBe('succeeded');
    const group = { id: 'build', members: ['a', 'b', 'c'] };
    expect(groupSummary(group, ['succeeded', 'failed', 'succeeded'])).toBe('build ×3: 2 succeeded, 1 failed');
  });
});
