import type { GitHubClient } from './github-client.ts';

/** GitHub's permission levels (legacy `permission` and `role_name`) that may change the repository. */
const WRITE_PERMISSIONS = new Set(['admin', 'maintain', 'write']);

/**
 * Whether `login` has write access to the client's repository, read now from GitHub (never
 * from the event). The one check behind counting approvals, buttons on check runs and
 * `/maestro run`; an unknown user, a bot without access, or an empty login has none.
 */
export async function hasWriteAccess(client: GitHubClient, login: string): Promise<boolean> {
  if (login === '') return false;
  const permission = await client.call(`read permission of ${login}`, (octokit) =>
    octokit.rest.repos.getCollaboratorPermissionLevel({
      owner: client.owner,
      repo: client.repo,
      username: login,
    }),
  );
  return (
    WRITE_PERMISSIONS.has(permission.data.permission) ||
    WRITE_PERMISSIONS.has(permission.data.role_name ?? '')
  );
}
