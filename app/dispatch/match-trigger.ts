import type { RefFilter } from '../../core/index.ts';

function globToRegex(glob: string): RegExp {
  let body = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      body += '.*';
      i += 1;
    } else if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else body += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}

/**
 * Whether a branch (and the changed paths, when the filter names paths) match a trigger filter.
 * No `branches` means any branch; no `paths` means any change. Globs: `*` within a segment,
 * `**` across segments (as GitHub Actions' filters).
 */
export function matchesRefFilter(
  filter: RefFilter | undefined,
  branch: string,
  changed: readonly string[] | undefined,
): boolean {
  if (!filter) return false;
  if (
    filter.branches &&
    filter.branches.length > 0 &&
    !filter.branches.some((b) => globToRegex(b).test(branch))
  )
    return false;
  if (filter.paths && filter.paths.length > 0 && changed !== undefined)
    return changed.some((path) => filter.paths!.some((p) => globToRegex(p).test(path)));
  return true;
}
