// Property tests (fast-check): digest invariance under reformatting, sensitivity to meaning,
// topological order, and cycle reporting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../core/index.ts';
import type { Plan } from '../core/index.ts';
import { compileManifest } from './index.ts';
import { testCatalog } from './test-catalog.ts';

type Json = string | number | boolean | Json[] | { [k: string]: Json };

/** A small deterministic PRNG so one seed fixes every style choice. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const plainSafe = /^[a-z][a-z0-9_-]*$/;
const keywords = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n']);

/** Writes a JSON value as YAML with random (but meaning-preserving) style choices. */
function emitYaml(value: Json, random: () => number, anchors: Map<string, string>): string {
  const scalar = (v: string | number | boolean): string => {
    if (typeof v !== 'string') return String(v);
    const pick = random();
    if (pick < 0.33 && plainSafe.test(v) && !keywords.has(v)) return v;
    if (pick < 0.66 && !v.includes('\n')) return `'${v.replace(/'/g, "''")}'`;
    return JSON.stringify(v);
  };
  const flow = (v: Json): string => {
    if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
    if (typeof v === 'object')
      return `{ ${shuffled(Object.keys(v))
        .map((k) => `${scalar(k)}: ${flow(v[k] as Json)}`)
        .join(', ')} }`;
    return scalar(v);
  };
  const shuffled = <T>(items: T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  const block = (v: Json, indent: string): string => {
    const lines: string[] = [];
    const nested = (child: Json): string => {
      if (typeof child !== 'object') return ` ${scalar(child)}${random() < 0.2 ? ' # note' : ''}`;
      const text = JSON.stringify(child);
      const anchor = anchors.get(text);
      if (anchor !== undefined && random() < 0.7) return ` *${anchor}`;
      let prefix = '';
      if (anchor === undefined && random() < 0.3 && Object.keys(child).length > 0) {
        const name = `a${anchors.size}`;
        anchors.set(text, name);
        prefix = ` &${name}`;
      }
      if (random() < 0.25 || (Array.isArray(child) ? child.length === 0 : Object.keys(child).length === 0))
        return `${prefix} ${flow(child)}`;
      return `${prefix}\n${block(child, `${indent}  `)}`;
    };
    if (Array.isArray(v)) for (const item of v) lines.push(`${indent}-${nested(item)}`);
    else
      for (const key of shuffled(Object.keys(v as object))) {
        if (random() < 0.1) lines.push(`${indent}# a comment`);
        lines.push(`${indent}${scalar(key)}:${nested((v as Record<string, Json>)[key] as Json)}`);
      }
    return lines.join('\n');
  };
  return `${block(value, '')}\n`;
}

const idArb = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const textArb = fc.string({ unit: fc.constantFrom(...'abcxyz019 -_:#\'"'.split('')), maxLength: 12 });

/** A random valid manifest: tasks needing earlier tasks, with env, params and a shared retry. */
const manifestArb = fc
  .record({
    ids: fc.uniqueArray(idArb, { minLength: 1, maxLength: 8 }),
    runs: fc.array(textArb, { minLength: 8, maxLength: 8 }),
    envs: fc.array(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,4}$/), textArb, { maxKeys: 3 }), {
      minLength: 8,
      maxLength: 8,
    }),
    needs: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 8, maxLength: 8 }),
    limit: fc.nat(5),
    region: textArb,
  })
  .map(({ ids, runs, envs, needs, limit, region }) => {
    const retry = { limit, backoff: { initial: '2s', factor: 2 } };
    const tasks = ids.map((id, i) => {
      const deps = [...new Set((needs[i] ?? []).filter(() => i > 0).map((n) => ids[n % i] as string))];
      return {
        id,
        run: `echo ${runs[i] ?? ''} \${params.region}`,
        ...(Object.keys(envs[i] ?? {}).length > 0 ? { env: envs[i] as Record<string, string> } : {}),
        ...(deps.length > 0 ? { needs: deps } : {}),
        retry,
      };
    });
    return {
      apiVersion: 'maestro/v1',
      kind: 'Workflow',
      metadata: { name: 'prop', labels: { team: 'x' } },
      spec: { params: { region: { type: 'string', default: region } }, tasks },
    } as unknown as Json;
  });

const compile = (text: string): Plan => {
  const result = compileManifest(text, { catalog: testCatalog });
  if (!result.plan)
    throw new Error(`does not compile:\n${text}\n${JSON.stringify(result.diagnostics, null, 1)}`);
  return result.plan;
};

describe('digest', () => {
  it('does not change with key order, quoting, flow/block style, comments or anchors', () => {
    fc.assert(
      fc.property(manifestArb, fc.integer(), fc.integer(), (manifest, seedA, seedB) => {
        const a = emitYaml(manifest, rng(seedA), new Map());
        const b = emitYaml(manifest, rng(seedB), new Map());
        const plan = compile(a);
        expect(plan.digest).toBe(compile(b).digest);
        // The fast digest path gives exactly core's RFC 8785 digest.
        const { digest, ...body } = plan;
        expect(digest).toBe(digestOf(body));
        expect(compile(JSON.stringify(manifest)).digest).toBe(compile(a).digest);
      }),
      { numRuns: 150 },
    );
  });

  it('changes with any change of meaning', () => {
    fc.assert(
      fc.property(manifestArb, fc.integer(), fc.nat(), (manifest, seed, which) => {
        const base = compile(emitYaml(manifest, rng(seed), new Map())).digest;
        const changed = structuredClone(manifest) as {
          spec: { tasks: Record<string, Json>[]; params: { region: { default: string } } };
        };
        const task = changed.spec.tasks[which % changed.spec.tasks.length] as Record<string, Json>;
        switch (which % 4) {
          case 0:
            task.run = `${String(task.run)} `;
            break;
          case 1:
            task.env = { ...(task.env as Record<string, string>), EXTRA: 'v' };
            break;
          case 2:
            task.retry = { limit: 99 };
            break;
          default:
            changed.spec.params.region.default += 'x';
        }
        expect(compile(emitYaml(changed as unknown as Json, rng(seed), new Map())).digest).not.toBe(base);
      }),
      { numRuns: 100 },
    );
  });
});

/** A random DAG: node i needs some nodes j < i; declared in a shuffled order. */
const dagArb = fc
  .integer({ min: 1, max: 25 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * 3 }),
      order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    }),
  )
  .map(({ n, edges, order }) => {
    const needs: Set<number>[] = Array.from({ length: n }, () => new Set());
    for (const [a, b] of edges) if (a !== b) needs[Math.max(a, b)]?.add(Math.min(a, b));
    return { n, needs, order };
  });

const manifestOf = (order: number[], needs: Set<number>[]): string =>
  `apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: dag }\nspec:\n  tasks:\n${order
    .map(
      (i) =>
        `    - id: t${i}\n      run: "true"\n      needs: [${[...(needs[i] ?? [])].map((j) => `t${j}`).join(', ')}]\n`,
    )
    .join('')}`;

describe('DAG', () => {
  it('topological order respects every edge, ties broken by declaration order', () => {
    fc.assert(
      fc.property(dagArb, ({ needs, order }) => {
        const plan = compile(manifestOf(order, needs));
        const position = new Map(plan.tasks.map((t, i) => [t.id, i]));
        for (const edge of plan.edges)
          expect(position.get(edge.from) as number).toBeLessThan(position.get(edge.to) as number);
        expect(plan.edges.length).toBe(needs.reduce((sum, s) => sum + s.size, 0));
        // Reference: repeatedly take the first declared task whose needs are all placed.
        const placed = new Set<string>();
        const expected: string[] = [];
        while (expected.length < order.length) {
          const next = order.find(
            (i) => !placed.has(`t${i}`) && [...(needs[i] ?? [])].every((j) => placed.has(`t${j}`)),
          );
          placed.add(`t${next}`);
          expected.push(`t${next}`);
        }
        expect(plan.tasks.map((t) => t.id)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('a planted cycle is always reported, with a path whose every step is a real edge', () => {
    fc.assert(
      fc.property(
        dagArb,
        fc.array(fc.nat(), { minLength: 2, maxLength: 6 }),
        ({ n, needs, order }, picks) => {
          const members = [...new Set(picks.map((p) => p % n))];
          fc.pre(members.length >= 2);
          for (let k = 0; k < members.length; k++)
            needs[members[k] as number]?.add(members[(k + 1) % members.length] as number);
          const result = compileManifest(manifestOf(order, needs), { catalog: testCatalog });
          expect(result.plan).toBeUndefined();
          const cycles = result.diagnostics.filter((d) => d.code === 'MS2004');
          expect(cycles.length).toBeGreaterThan(0);
          for (const cycle of cycles) {
            const path = cycle.message.replace('dependency cycle: ', '').split(' → ');
            expect(path[0]).toBe(path[path.length - 1]);
            for (let k = 0; k + 1 < path.length; k++) {
              const from = Number((path[k] as string).slice(1));
              const to = Number((path[k + 1] as string).slice(1));
              expect(needs[from]?.has(to)).toBe(true);
            }
            expect(cycle.pointer).toMatch(/^\/spec\/tasks\/\d+\/needs\/\d+$/);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
