import type { GitHubClient } from '../github/github-client.ts';
import type { Lru } from './lru.ts';
import { readTaskSources, type TaskSources, type TreeEntry } from './task-sources.ts';

/** A manifest as read from the repository at one commit. */
export interface RepositoryFile {
  path: string;
  /** The git blob SHA: the content's address, so caches keyed by it never go stale. */
  sha: string;
  content: string;
}

const MANIFEST_PATH = /^\.maestro\/(workflows|runbooks)\/[^/]+\.ya?ml$/i;
/** Where GitHub looks for CODEOWNERS, in its order of precedence. */
const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];
/** The repository's policy (docs/policy.md): rules under `.maestro/policy/` and the built bundle. */
const POLICY_PATH = /^\.maestro\/(policy\/|policy-bundle\.tar\.gz$)/;

export interface RepositorySnapshot {
  sha: string;
  manifests: RepositoryFile[];
  codeowners?: RepositoryFile;
  /** Policy files by path and blob SHA (not read: the gate only asks whether they changed). */
  policyFiles?: { path: string; sha: string }[];
  /** The repository's own tasks and shared catalogs, what its workflows compile with. */
  taskSources?: TaskSources;
}

/**
 * Reads `.maestro/workflows/*.y(a)ml`, `.maestro/runbooks/*.y(a)ml` and CODEOWNERS at exactly
 * `sha` through the Git trees and blobs API: one tree call plus one blob call per file not yet
 * in the blob cache. Content is addressed by blob SHA, so what is compiled is what that commit
 * holds, and a cached blob can never be stale.
 */
export async function readRepositorySnapshot(
  client: GitHubClient,
  sha: string,
  blobs?: Lru<string>,
): Promise<RepositorySnapshot> {
  const tree = await client.call('read tree', (octokit) =>
    octokit.rest.git.getTree({ owner: client.owner, repo: client.repo, tree_sha: sha, recursive: 'true' }),
  );
  const entries = tree.data.tree.filter((entry) => entry.type === 'blob' && entry.path && entry.sha);
  const manifestEntries = entries.filter((entry) => MANIFEST_PATH.test(entry.path!));
  const codeownersEntry = CODEOWNERS_PATHS.map((path) => entries.find((entry) => entry.path === path)).find(
    Boolean,
  );
  const read = async (path: string, blobSha: string): Promise<RepositoryFile> => {
    const cached = blobs?.get(blobSha);
    if (cached !== undefined) return { path, sha: blobSha, content: cached };
    const blob = await client.call(`read ${path}`, (octokit) =>
      octokit.rest.git.getBlob({ owner: client.owner, repo: client.repo, file_sha: blobSha }),
    );
    const content =
      blob.data.encoding === 'base64'
        ? Buffer.from(blob.data.content, 'base64').toString('utf8')
        : blob.data.content;
    blobs?.set(blobSha, content);
    return { path, sha: blobSha, content };
  };
  const manifests = await Promise.all(manifestEntries.map((entry) => read(entry.path!, entry.sha!)));
  manifests.sort((a, b) => a.path.localeCompare(b.path));
  const codeowners = codeownersEntry ? await read(codeownersEntry.path!, codeownersEntry.sha!) : undefined;
  const policyFiles = entries
    .filter((entry) => POLICY_PATH.test(entry.path!))
    .map((entry) => ({ path: entry.path!, sha: entry.sha! }));
  // Task files are digested byte for byte (a task may hold binary files): read as bytes.
  const bytes = async (path: string, blobSha: string): Promise<Uint8Array> => {
    const key = `base64:${blobSha}`;
    let base64 = blobs?.get(key);
    if (base64 === undefined) {
      const blob = await client.call(`read ${path}`, (octokit) =>
        octokit.rest.git.getBlob({ owner: client.owner, repo: client.repo, file_sha: blobSha }),
      );
      base64 =
        blob.data.encoding === 'base64'
          ? blob.data.content.replace(/\s+/g, '')
          : Buffer.from(blob.data.content, 'utf8').toString('base64');
      blobs?.set(key, base64);
    }
    return Buffer.from(base64, 'base64');
  };
  const treeEntries = tree.data.tree.filter((e) => e.path && e.sha && e.mode && e.type) as TreeEntry[];
  const taskSources = await readTaskSources(
    `${client.owner}/${client.repo}@${sha.slice(0, 12)}`,
    treeEntries,
    bytes,
  );
  return { sha, manifests, ...(codeowners ? { codeowners } : {}), policyFiles, taskSources };
}
