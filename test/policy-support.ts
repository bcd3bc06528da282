// Shared by the policy tests: where the real opa is, and a known-good input.
import { homedir } from 'node:os';
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
