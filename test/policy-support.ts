// Shared by the policy tests: where the real opa is, and a known-good input.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describeError, type PolicyInput } from '../core/index.ts';
import { findOpa } from '../policy/index.ts';

/** The real opa binary; fails (never skips) with the setup script to run when it is missing. */
export function requireOpa(): string {
  try {
    return findOpa({ home: homedir(), path: process.env.PATH, explicit: process.env.MAESTRO_OPA });
  } catch (error) {
    throw new Error(`policy tests need opa: ${describeError(error)} (run scripts/setup/opa.sh)`, {
      cause: error,
    });
  }
}

export function taskInput(
  overrides: Partial<PolicyInput['task']> = {},
  rest: Partial<PolicyInput> = {},
): PolicyInput {
  return {
    task: {
      id: 'build',
      kind: 'shell',
      runner: 'local',
      resources: 'small',
      targetHosts: [],
      privileged: false,
      hostNetwork: false,
      ...overrides,
    },
    workflow: { name: 'nightly', namespace: 'data', kind: 'Workflow' },
    planDigest: `sha256:${'a'.repeat(64)}`,
    namespace: 'data',
    policy: {},
    actor: 'alice',
    ...rest,
  };
}

export const fixedClock = {
  now: () => Date.UTC(2026, 10, 23, 12, 0, 0),
  sleep: () => Promise.resolve(),
};

export function counterIds(prefix = 'd'): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

/**
 * Compiles Rego sources with the real `opa build -t wasm -e maestro/policy/decision` into a
 * bundle file inside `dir`; returns its path.
 */
export function compileRego(
  opa: string,
  dir: string,
  files: Record<string, string>,
  data: object = {},
): string {
  const src = join(
    dir,
    `src-${Object.keys(files)
      .join('-')
      .replace(/[^\w-]/g, '_')}`,
  );
  mkdirSync(src, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(src, name), text);
  writeFileSync(join(src, 'data.json'), JSON.stringify(data));
  const out = join(src, 'bundle.tar.gz');
  execFileSync(
    opa,
    ['build', '-t', 'wasm', '-e', 'maestro/policy/decision', '-o', out, ...Object.keys(files), 'data.json'],
    {
      cwd: src,
      stdio: 'pipe',
    },
  );
  return out;
}
