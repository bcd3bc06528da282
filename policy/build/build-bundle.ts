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

/**
 * Runs `opa test` twice: the default rules' tests against the default data, then (when there is
 * a repository policy) the repository's tests against the combined rules and merged data, since
 * a repository's config.json legitimately changes what the default tests expect.
 */
export async function testPolicy(options: Omit<BuildPolicyOptions, 'out'>): Promise<TestPolicyResult> {
  const runs: { repoDir?: string; skipDefaultTests: boolean; label: string }[] = [
    { skipDefaultTests: false, label: 'default policy' },
  ];
  if (options.repoDir)
    runs.push({ repoDir: options.repoDir, skipDefaultTests: true, label: options.repoDir });
  let ok = true;
  let output = '';
  for (const run of runs) {
    const staged = await stagePolicy({
      defaultDir: options.defaultDir,
      repoDir: run.repoDir,
      tests: true,
      skipDefaultTests: run.skipDefaultTests,
    });
    try {
      const result = await runOpa(options.opa, ['test', '-v', '.'], staged.dir);
      ok &&= result.code === 0;
      output += `# ${run.label}\n${result.stdout}${result.stderr || (result.stdout ? '' : 'no tests\n')}`;
    } finally {
      await staged.cleanup();
    }
  }
  return { ok, output };
}
