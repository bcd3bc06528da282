import { mkdtemp, readdir, readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { PolicyBuildError } from '../errors.ts';
import { mergeConfig } from './merge-config.ts';

export interface StageOptions {
  /** policy/default (decision.rego, rules.rego, data.json, *_test.rego). */
  defaultDir: string;
  /** A repository's `.maestro/policy` directory, if any. */
  repoDir?: string;
  /** Include *_test.rego files (for `opa test`). */
  tests: boolean;
  /** With `tests`, leave out the default rules' tests (they assume the default data). */
  skipDefaultTests?: boolean;
}

export interface StagedPolicy {
  dir: string;
  /** Rego files relative to `dir`, sorted (their order and names end up in the bundle). */
  regoFiles: string[];
  cleanup(): Promise<void>;
}

const REPO_PACKAGE = /^maestro\.repo(\.|$)/;

/**
 * Copies the default rules and the repository's rules into one temporary directory, with one
 * merged data.json, so `opa build` and `opa test` see exactly what the bundle will contain and
 * nothing else (relative paths keep the bundle reproducible).
 */
export async function stagePolicy(options: StageOptions): Promise<StagedPolicy> {
  const dir = await mkdtemp(join(tmpdir(), 'maestro-policy-'));
  try {
    const regoFiles: string[] = [];
    const defaultTests = options.tests && !options.skipDefaultTests;
    for (const file of await listRego(options.defaultDir, defaultTests)) {
      regoFiles.push(await copyInto(dir, 'default', options.defaultDir, file));
    }
    const defaults = JSON.parse(await readFile(join(options.defaultDir, 'data.json'), 'utf8')) as {
      maestro: { config: Record<string, unknown> };
    };
    if (options.repoDir) {
      for (const file of await listRego(options.repoDir, options.tests)) {
        await checkRepoPackage(join(options.repoDir, file));
        regoFiles.push(await copyInto(dir, 'repo', options.repoDir, file));
      }
      const repoConfig = await readRepoConfig(join(options.repoDir, 'config.json'));
      if (repoConfig)
        defaults.maestro.config = mergeConfig(
          defaults.maestro.config,
          repoConfig,
          join(options.repoDir, 'config.json'),
        );
    }
    await writeFile(join(dir, 'data.json'), `${JSON.stringify(defaults, null, 2)}\n`);
    regoFiles.sort();
    return { dir, regoFiles, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function listRego(root: string, tests: boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new PolicyBuildError(`cannot read policy directory ${root}: ${(error as Error).message}`);
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.rego'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((f) => tests || !f.endsWith('_test.rego'))
    .sort();
}

async function copyInto(dir: string, prefix: string, root: string, file: string): Promise<string> {
  const target = join(prefix, file);
  await mkdir(join(dir, dirname(target)), { recursive: true });
  await writeFile(join(dir, target), await readFile(join(root, file)));
  return target;
}

/** Repository Rego must live under package maestro.repo, so it can add denies but not replace the defaults. */
async function checkRepoPackage(path: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  const match = /^\s*package\s+([\w.]+)/m.exec(text);
  const pkg = match?.[1];
  if (!pkg || !(REPO_PACKAGE.test(pkg) || (path.endsWith('_test.rego') && /^maestro\.repo/.test(pkg))))
    throw new PolicyBuildError(
      `${path}: repository policies must be in package maestro.repo (found ${pkg ?? 'no package'})`,
      { hint: 'declare `package maestro.repo` and add `deny contains msg if {...}` rules' },
    );
}

async function readRepoConfig(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PolicyBuildError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PolicyBuildError(`${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}
