import { readFile, rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PolicyBuildError } from '../errors.ts';
import { POLICY_ENTRYPOINT, readPolicyBundle, type PolicyBundle } from '../bundle/read-bundle.ts';
import { runOpa } from './run-opa.ts';
import { stagePolicy } from './stage-policy.ts';

export interface BuildPolicyOptions {
  opa: string;
  defaultDir: string;
  /** A repository's `.maestro/policy`; omitted for the default bundle alone. */
  repoDir?: string;
  /** Where to write bundle.tar.gz. */
  out: string;
}

export interface BuiltPolicy {
  path: string;
  digest: string;
  /** Rego files compiled in, relative to the staging root (`default/…`, `repo/…`). */
  regoFiles: string[];
  bundle: PolicyBundle;
}

/** Compiles default (+ repository) Rego to wasm with the real `opa build -t wasm`. */
export async function buildPolicyBundle(options: BuildPolicyOptions): Promise<BuiltPolicy> {
  const staged = await stagePolicy({
    defaultDir: options.defaultDir,
    repoDir: options.repoDir,
    tests: false,
  });
  try {
    const out = resolve(options.out);
    const tmp = `${out}.tmp`;
    const args = [
      'build',
      '-t',
      'wasm',
      '-e',
      POLICY_ENTRYPOINT,
      '-o',
      tmp,
      ...staged.regoFiles,
      'data.json',
    ];
    const run = await runOpa(options.opa, args, staged.dir);
    if (run.code !== 0) throw new PolicyBuildError(`opa build failed:\n${(run.stderr || run.stdout).trim()}`);
    await rename(tmp, out);
    const bundle = readPolicyBundle(await readFile(out), out);
    return { path: out, digest: bundle.digest, regoFiles: staged.regoFiles, bundle };
  } finally {
    await staged.cleanup();
  }
}

export interface TestPolicyResult {
  ok: boolean;
  output: string;
}

/** Runs `opa test` over the default rules and tests plus the repository's rules and tests. */
export async function testPolicy(options: Omit<BuildPolicyOptions, 'out'>): Promise<TestPolicyResult> {
  const staged = await stagePolicy({ defaultDir: options.defaultDir, repoDir: options.repoDir, tests: true });
  try {
    const run = await runOpa(options.opa, ['test', '-v', '.'], staged.dir);
    return { ok: run.code === 0, output: `${run.stdout}${run.stderr}` };
  } finally {
    await staged.cleanup();
  }
}
