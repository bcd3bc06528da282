import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findManifests } from '../workspace/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): unknown => parse(readFileSync(join(root, path), 'utf8'));

interface ActionYml {
  runs: { using: string; main: string };
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
}
interface WorkflowYml {
  jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, string> }> }>;
}

describe('action.yml', () => {
  it('runs the committed bundle on node24 and declares the inputs and outputs the code uses', () => {
    const action = read('action/action.yml') as ActionYml;
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(Object.keys(action.inputs).sort()).toEqual(
      [
        'certificate-identity',
        'certificate-oidc-issuer',
        'format',
        'key',
        'mode',
        'params',
        'path',
        'receipts-dir',
        'trusted-root',
        'workflow',
      ].sort(),
    );
    expect(action.inputs['path']?.default).toBe('.');
    expect(action.inputs['mode']?.default).toBe('validate');
    // Every input the code reads is declared, and every output it sets.
    const source = ['run-action.ts', 'run-mode.ts', 'verify-mode.ts', 'inputs.ts']
      .map((f) => readFileSync(join(root, 'action', f), 'utf8'))
      .join('\n');
    const inputsRead = new Set([...source.matchAll(/get(?:Multiline)?Input\('([a-z-]+)'/g)].map((m) => m[1]));
    expect([...inputsRead].sort()).toEqual(Object.keys(action.inputs).sort());
    const set = new Set([...source.matchAll(/setOutput\('([a-z-]+)'/g)].map((m) => m[1]));
    expect(Object.keys(action.outputs).sort()).toEqual([...set].sort());
  });
});

describe('.github/workflows/maestro-validate.yml', () => {
  it('runs ./action on every example manifest except the deliberately broken one and end-to-end/', () => {
    const workflow = read('.github/workflows/maestro-validate.yml') as WorkflowYml;
    const step = Object.values(workflow.jobs)
      .flatMap((j) => j.steps)
      .find((s) => s.uses === './action');
    expect(step, 'a step uses ./action').toBeDefined();
    const paths = step!.with!['path']!.split('\n').filter((p) => p.trim() !== '');
    const covered = findManifests(paths, { cwd: root }).map((f) => f.display);
    const all = findManifests(['examples'], { cwd: root }).map((f) => f.display);
    // end-to-end/ is a repository of its own: its repository task and locked catalog task resolve
    // only once it is copied out as one (examples/README.md; test/examples-end-to-end.test.ts).
    // So is each folder of connector-skeleton/ (test/connector-skeleton-e2e.test.ts).
    const own = ['examples/end-to-end/', 'examples/connector-skeleton/'];
    expect(covered).toEqual(all.filter((f) => !f.includes('/broken/') && !own.some((o) => f.includes(o))));
    expect(covered.length).toBeGreaterThanOrEqual(3);
  });
});
