/**
 * A tiny pure DAG toolkit over node indices 0..n-1 (index = declaration order).
 * `needs[i]` lists the nodes node i waits for.
 */

/**
 * Kahn's algorithm; among ready nodes the lowest index goes first, so the order is deterministic
 * and ties follow declaration order. Nodes left out are on or behind a cycle.
 */
export function topologicalOrder(needs: readonly (readonly number[])[]): {
  order: number[];
  blocked: number[];
} {
  const n = needs.length;
  const waiting = new Int32Array(n);
  // Who waits for each node, as one flat array (compressed rows: node d's dependants are
  // dependants[first[d]] .. dependants[first[d + 1] - 1]), not one array per node.
  const first = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const list = needs[i] as readonly number[];
    waiting[i] = list.length;
    for (let k = 0; k < list.length; k++) (first[(list[k] as number) + 1] as number)++;
  }
  for (let d = 0; d < n; d++) first[d + 1] = (first[d + 1] as number) + (first[d] as number);
  const dependants = new Int32Array(first[n] as number);
  const fill = first.slice(0, n);
  for (let i = 0; i < n; i++)
    for (const d of needs[i] as readonly number[]) dependants[(fill[d] as number)++] = i;
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) if (waiting[i] === 0) heap.push(i);
  const order: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    for (let k = first[i] as number; k < (first[i + 1] as number); k++) {
      const j = dependants[k] as number;
      waiting[j] = (waiting[j] as number) - 1;
      if (waiting[j] === 0) heap.push(j);
    }
  }
  const blocked: number[] = [];
  if (order.length < n) for (let i = 0; i < n; i++) if ((waiting[i] as number) > 0) blocked.push(i);
  return { order, blocked };
}

/**
 * One cycle per strongly connected component that has one, among `candidates`: the path
 * `[a, b, c]` reads a → b → c → a, where `x → y` means x needs y. It starts at the component's
 * lowest index. Iterative Tarjan (no recursion); deterministic.
 */
export function findCycles(needs: readonly (readonly number[])[], candidates: readonly number[]): number[][] {
  const inSet = new Set(candidates);
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (const root of candidates) {
    if (index.has(root)) continue;
    const edgesOf = (v: number): number[] => (needs[v] as number[]).filter((w) => inSet.has(w));
    const work: { v: number; edge: number; edges: number[] }[] = [{ v: root, edge: 0, edges: edgesOf(root) }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { v: number; edge: number; edges: number[] };
      if (frame.edge < frame.edges.length) {
        const w = frame.edges[frame.edge++] as number;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, edge: 0, edges: edgesOf(w) });
        } else if (onStack.has(w))
          low.set(frame.v, Math.min(low.get(frame.v) as number, index.get(w) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v) as number, low.get(frame.v) as number));
      if (low.get(frame.v) === index.get(frame.v)) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.v);
        const selfLoop = component.length === 1 && (needs[frame.v] as number[]).includes(frame.v);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components
    .map((component) => shortestCycle(needs, new Set(component), Math.min(...component)))
    .sort((a, b) => (a[0] as number) - (b[0] as number));
}

/** BFS from `start` back to itself inside one component: the shortest cycle through `start`. */
function shortestCycle(
  needs: readonly (readonly number[])[],
  component: Set<number>,
  start: number,
): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head] as number;
    for (const w of [...(needs[v] as number[])].sort((a, b) => a - b)) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0] as number) as number);
        return path;
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

class MinHeap {
  #items: number[] = [];
  get size(): number {
    return this.#items.length;
  }
  push(value: number): void {
    const a = this.#items;
    a.push(value);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if ((a[p] as number) <= value) break;
      a[i] = a[p] as number;
      a[p] = value;
      i = p;
    }
  }
  pop(): number {
    const a = this.#items;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && (a[l] as number) < (a[m] as number)) m = l;
        if (r < a.length && (a[r] as number) < (a[m] as number)) m = r;
        if (m === i) break;
        const swap = a[i] as number;
        a[i] = a[m] as number;
        a[m] = swap;
        i = m;
      }
    }
    return top;
  }
}
