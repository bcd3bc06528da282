/**
 * The SourceFetcher the engine is given: a read-only export of a run's source, one per commit
 * under `<data-dir>/sources/exports/`, shared by every run of that commit (exports are sealed and
 * never written after they are published).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSource, SourceContext, SourceFetcher } from '../core/index.ts';
import { SourceChangedError, SourceFetchError } from './source-errors.ts';
import { exportCommit, exportDirectory, exportName } from './source-export.ts';
import { fetchIntoMirror } from './source-mirror.ts';
import { authorizationHeader, credentialOf, type GitBaseEnv, type GitCredential } from './source-git.ts';
import { isRemoteLocation } from './source-url.ts';

export interface SourceFetcherOptions {
  dataDir: string;
  /**
   * The token for a remote repository (the App's installation token), asked for at fetch time
   * so it is fresh and never stored, for the run `context` names; or a token with its Basic user
   * (the CLI's catalog credentials, workspace/catalog-credentials.ts). Undefined: anonymously.
   */
  tokenFor?: (repo: string, context?: SourceContext) => Promise<string | GitCredential | undefined>;
  /** PATH and HOME for git, from the surface's environment. */
  baseEnv?: GitBaseEnv;
}

export function exportsDir(dataDir: string): string {
  return join(dataDir, 'sources', 'exports');
}

export function createSourceFetcher(options: SourceFetcherOptions): SourceFetcher {
  const root = exportsDir(options.dataDir);
  const baseEnv = options.baseEnv ? { baseEnv: options.baseEnv } : {};
  return {
    async export(source: RunSource, context?: SourceContext): Promise<string> {
      const target = join(root, exportName(source.commit));
      if (existsSync(target)) return target;
      if (source.kind === 'directory') {
        const { digest, path } = exportDirectory(source.repo, root, [options.dataDir]);
        if (digest !== source.commit) throw new SourceChangedError(source.repo, source.commit, digest);
        return path;
      }
      if (isRemoteLocation(source.repo)) {
        const found = await options.tokenFor?.(source.repo, context);
        const credential = found ? credentialOf(found) : undefined;
        const { dir } = await fetchIntoMirror({
          dataDir: options.dataDir,
          url: source.repo,
          want: source.commit,
          ...(credential ? { token: credential.token, username: credential.username } : {}),
          ...baseEnv,
        });
        await exportCommit({ cwd: dir, isolated: true, ...baseEnv }, source.commit, target);
        return target;
      }
      try {
        await exportCommit({ cwd: source.repo, ...baseEnv }, source.commit, target);
      } catch (error) {
        throw new SourceFetchError(source.repo, error instanceof Error ? error.message : String(error));
      }
      return target;
    },
    async authHeader(source: RunSource, context?: SourceContext): Promise<string | undefined> {
      if (source.kind !== 'git' || !isRemoteLocation(source.repo)) return undefined;
      const found = await options.tokenFor?.(source.repo, context);
      if (!found) return undefined;
      const { token, username } = credentialOf(found);
      return authorizationHeader(token, username);
    },
  };
}
