/**
 * Replay protection beyond the retention window. Deduplication by body digest lasts as long as a
 * delivery is kept; after that a captured delivery could be replayed once more. Most handlers
 * re-read current state from GitHub (the pull request's head, its reviews), so an old event acts
 * on today's facts; the push handler acts on the payload itself (it runs `after` on the pushed
 * branch), so an old push replayed would roll a deploy back to an old commit. A push therefore
 * must be younger than the retention: `repository.pushed_at` (epoch seconds, stamped by GitHub at
 * the push, inside the signed body) dates it. GitHub redelivers for at most a few days, so no
 * genuine push is refused; a push without the stamp is refused (fail closed).
 */
export function isStalePush(name: string, payload: unknown, now: number, retentionMs: number): boolean {
  if (name !== 'push') return false;
  const pushedAt = (payload as { repository?: { pushed_at?: unknown } } | null)?.repository?.pushed_at;
  if (typeof pushedAt !== 'number' || !Number.isFinite(pushedAt)) return true;
  return pushedAt * 1000 < now - retentionMs;
}
