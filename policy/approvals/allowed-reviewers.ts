/**
 * Who a `from:` list allows, on any surface: `user`/`@user`, `team:slug`, `team:org/slug` and
 * `@org/slug` (a team's members, from the caller's directory: GitHub's Teams API for the App, the
 * server's teams file for the REST API). Emails (CODEOWNERS allows them) cannot be mapped to
 * logins, so they allow nobody. `codeowners` is resolved by the caller first (the App applies the
 * base's CODEOWNERS; a surface without one resolves it to nobody). An empty `from` means any
 * writer; the caller decides that before calling.
 */

/** One `from:` entry, parsed. `org` is absent for `team:slug`: the directory decides its scope. */
export type FromEntry =
  | { kind: 'user'; login: string }
  | { kind: 'team'; org?: string; slug: string }
  | { kind: 'nobody'; entry: string };

export function parseFromEntry(raw: string): FromEntry {
  const entry = raw.startsWith('@') ? raw.slice(1) : raw;
  if (entry.includes('@') || entry === 'codeowners' || entry === '') return { kind: 'nobody', entry: raw };
  const team = entry.startsWith('team:') ? entry.slice(5) : entry.includes('/') ? entry : undefined;
  if (team === undefined) return { kind: 'user', login: entry };
  if (!team.includes('/')) return { kind: 'team', slug: team };
  const [org, slug] = team.split('/', 2) as [string, string];
  return { kind: 'team', org, slug };
}

/** A team's members (logins); an unknown team has none. */
export type TeamMembers = (team: { org?: string; slug: string }) => Promise<Iterable<string>>;

/** The logins `entries` allow, each team looked up once. */
export async function resolveAllowed(
  entries: readonly string[],
  membersOf: TeamMembers,
): Promise<Set<string>> {
  const allowed = new Set<string>();
  const seen = new Map<string, Iterable<string>>();
  for (const parsed of entries.map(parseFromEntry)) {
    if (parsed.kind === 'user') allowed.add(parsed.login);
    if (parsed.kind !== 'team') continue;
    const key = `${parsed.org ?? ''}/${parsed.slug}`;
    if (!seen.has(key)) seen.set(key, [...(await membersOf(parsed))]);
    for (const member of seen.get(key)!) allowed.add(member);
  }
  return allowed;
}
