/**
 * Which source a run from the CLI uses: the git repository containing the manifest, at HEAD
 * (its committed state), unless `--source <dir|url>` and `--ref <rev>` say otherwise. Outside a
 * git repository, the manifest's directory. The result names an exact commit (or tree digest), so
 * the run records precisely what its tasks saw; `note` says it in words for the log.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UsageError, type RunSource } from '../core/index.ts';
import { SourceRefUnknownError } from './source-errors.ts';
import { exportDirectory } from './source-export.ts';
import { findGitTopLevel } from './git-top-level.ts';
import { exportsDir } from './source-fetcher.ts';
import { gitFor, type GitBaseEnv } from './source-git.ts';
import { fetchIntoMirror } from './source-mirror.ts';
import { isRemoteLocation } from './source-url.ts';

export interface ResolveSourceOptions {
  /** The manifest being run (its folder is the default place to look). */
  manifestPath: string;
  /** `--source`: a directory or a remote URL. */
  source?: string;
  /** `--ref`: a branch, tag or commit. */
  ref?: string;
  dataDir: string;
  cwd: string;
  /** PATH and HOME for git, from the surface's environment. */
  baseEnv?: GitBaseEnv;
}

export interface ResolvedSource {
  source: RunSource;
  /** One line for the log: where the code comes from, and what is left out. */
  note: string;
}

/**
 * Where to look for the source of a manifest: the folder holding `.maestro/` when the manifest
 * is in `.maestro/workflows/` or `.maestro/runbooks/` (the repository layout), else its folder.
 */
function defaultRoot(manifest: string): string {
  const dir = dirname(manifest);
  const parent = dirname(dir);
  return basename(parent) === '.maestro' && ['workflows', 'runbooks'].includes(basename(dir))
    ? dirname(parent)
    : dir;
}

async function gitTopLevel(dir: string, baseEnv: GitBaseEnv): Promise<string | undefined> {
  try {
    return (await gitFor({ cwd: dir, baseEnv }).raw(['rev-parse', '--show-toplevel'])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The repository holding `dir` at `ref` (default HEAD), or undefined outside git. One rev-parse
 * answers both questions, and the dirty check runs beside it: git's start-up is most of the cost
 * a run pays for its source, so it is paid once, not three times.
 */
async function resolveLocalGit(
  dir: string,
  ref: string | undefined,
  baseEnv: GitBaseEnv,
): Promise<ResolvedSource | undefined> {
  const git = gitFor({ cwd: dir, baseEnv });
  const rev = ref ?? 'HEAD';
  const [parsed, status] = await Promise.all([
    git.raw(['rev-parse', '--show-toplevel', `${rev}^{commit}`]).catch(() => undefined),
    ref === undefined
      ? git.raw(['status', '--porcelain', '--untracked-files=no']).catch(() => '')
      : Promise.resolve(''),
  ]);
  const [top, commit] = (parsed ?? '').trim().split('\n');
  if (top === undefined || commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) {
    const repo = await gitTopLevel(dir, baseEnv);
    if (repo === undefined) return undefined;
    throw new SourceRefUnknownError(repo, rev);
  }
  const source: RunSource = { kind: 'git', repo: top, commit, ...(ref ? { ref } : {}) };
  const left = status.trim() ? '; uncommitted changes are not included (commit them to run them)' : '';
  return { source, note: `source: ${top} at ${commit.slice(0, 12)} (${rev})${left}` };
}

/**
 * The source folder a manifest's repository tasks are read from, as `resolveRunSource` finds the
 * source: `--source <dir>` when given, else the git repository holding the manifest (its top
 * level), else the folder holding its `.maestro/`.
 */
export async function sourceRootOf(
  manifestPath: string,
  options: { cwd: string; source?: string; baseEnv?: GitBaseEnv },
): Promise<string> {
  if (options.source !== undefined) return resolve(options.cwd, options.source);
  return sourceRootOfDir(defaultRoot(resolve(options.cwd, manifestPath)), options.baseEnv);
}

/** The git repository holding `dir` (its top level), else `dir` itself. */
export async function sourceRootOfDir(dir: string, baseEnv: GitBaseEnv = {}): Promise<string> {
  const found = findGitTopLevel(dir);
  if (found === 'ask-git') return (await gitTopLevel(dir, baseEnv)) ?? dir;
  return found ?? dir;
}

export async function resolveRunSource(options: ResolveSourceOptions): Promise<ResolvedSource> {
  const location = options.source;
  const baseEnv = options.baseEnv ?? {};
  if (location !== undefined && isRemoteLocation(location)) {
    const want = options.ref ?? 'HEAD';
    const { commit } = await fetchIntoMirror({ dataDir: options.dataDir, url: location, want, baseEnv });
    const source: RunSource = { kind: 'git', repo: location, commit, ref: want };
    return { source, note: `source: ${location} at ${commit.slice(0, 12)} (${want})` };
  }
  const dir = resolve(options.cwd, location ?? defaultRoot(resolve(options.cwd, options.manifestPath)));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--source ${location}: not a directory or an https:// URL`);
  const local = await resolveLocalGit(dir, options.ref, baseEnv);
  if (local) return local;
  if (options.ref !== undefined)
    throw new UsageError(`--ref ${options.ref} needs a git repository, and ${dir} is not in one`);
  const { digest } = exportDirectory(dir, exportsDir(options.dataDir), [options.dataDir]);
  return {
    source: { kind: 'directory', repo: dir, commit: digest },
    note: `source: ${dir} (not a git repository: its files as they are now, ${digest.slice(0, 19)})`,
  };
}
