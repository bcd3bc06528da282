// Which hosts a redirect may lead to. Policy approved this task for the hosts of its `url` input
// (targetHosts) against the egress allow-list, before it started; a redirect is a new request to
// a host policy never saw, so each hop is checked here against the same list.

/**
 * The allow-list for redirect hops: `MAESTRO_EGRESS_ALLOWED_HOSTS` (a JSON list, as the policy's
 * `allowed_hosts`: exact hosts, or `*.example.com` for any subdomain), set by the engine from the
 * policy decision. Without it, only the host policy approved (the url's own) is allowed: a task
 * that cannot know the list fails closed rather than follow a redirect anywhere.
 */
export function redirectAllowList(env: NodeJS.ProcessEnv, approvedHost: string): string[] {
  const raw = env.MAESTRO_EGRESS_ALLOWED_HOSTS;
  if (raw === undefined) return [approvedHost.toLowerCase()];
  const parsed = JSON.parse(raw) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((h) => typeof h === 'string'))
    throw new Error('MAESTRO_EGRESS_ALLOWED_HOSTS must be a JSON list of host names');
  return parsed.map((h) => h.toLowerCase());
}

/** The policy's rule: an exact entry, or `*.suffix` matching any subdomain of `suffix`. */
export function hostAllowed(host: string, allowList: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowList.some((entry) => entry === h || (entry.startsWith('*.') && h.endsWith(entry.slice(1))));
}
