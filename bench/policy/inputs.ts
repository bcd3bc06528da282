import type { PolicyInput } from '../../core/index.ts';

/** A small seeded PRNG (mulberry32) so every run benchmarks the same 100,000 inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/**
 * Varied inputs that exercise every default rule: shell/argv/container/catalog tasks; http tasks
 * with allowed, wildcard, unknown and no hosts; the sensitive task, namespaces and labels with and
 * without purpose/authority/license; allowed and unknown licenses; privileged and host network.
 */
export function generateInputs(count: number, seed = 42): PolicyInput[] {
  const r = prng(seed);
  const hosts = [
    'api.github.com',
    'raw.githubusercontent.com',
    'localhost',
    'evil.example',
    'data.example.org',
  ];
  const licenses = [undefined, 'internal', 'MIT', 'Apache-2.0', 'GPL-3.0', 'WTFPL'];
  const out: PolicyInput[] = [];
  for (let i = 0; i < count; i++) {
    const kind = pick(r, ['shell', 'argv', 'container', 'catalog', 'catalog'] as const);
    const uses =
      kind === 'catalog' ? pick(r, ['http@1.2.0', 'sig.export@1.0.0', 'schema-validate@1.1.0']) : undefined;
    const targetHosts = uses?.startsWith('http')
      ? Array.from({ length: Math.floor(r() * 3) }, () => pick(r, hosts))
      : [];
    const namespace = pick(r, ['data', 'ci', 'legal', 'web', 'disclosure', 'ops']);
    const license = pick(r, licenses);
    const full = r() < 0.5;
    const input: PolicyInput = {
      task: {
        id: `task-${i}`,
        kind,
        runner: pick(r, ['local', 'container', 'kubernetes']),
        resources: pick(r, ['small', 'medium', 'large']),
        targetHosts,
        privileged: r() < 0.05,
        hostNetwork: r() < 0.05,
        ...(uses ? { uses } : {}),
        ...(kind === 'container' ? { image: 'registry.local/busybox:1.36' } : {}),
      },
      workflow: {
        name: `wf-${i % 97}`,
        namespace,
        kind: 'Workflow',
        labels: r() < 0.1 ? { 'maestro.dev/sensitive': 'true' } : { team: 'data' },
      },
      planDigest: `sha256:${(i * 2654435761).toString(16).padStart(64, '0').slice(-64)}`,
      namespace,
      policy: {
        ...(full ? { purpose: 'disclosure', authority: 'legal:ombuds' } : {}),
        ...(license ? { license } : {}),
      },
      actor: pick(r, ['alice', 'bob', 'ci-bot']),
    };
    out.push(input);
  }
  return out;
}
