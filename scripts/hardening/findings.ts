/**
 * The hardening check's verdict (docs/hardening.md): kube-score's findings and the image's, held
 * against the tracked exceptions of ops/hardening/exceptions.yaml. Pure: findings, exceptions and
 * today's date in; what fails and why out. A high-severity finding with no live exception fails,
 * and so does an exception past its expiry date or missing a field; a medium one is reported.
 */
export type Severity = 'high' | 'medium';

export interface Finding {
  /** The check's id (kube-score's, or `image-…` for the image's own rules). */
  check: string;
  /** `Kind/name` of the object (`Image/maestro` for the image). */
  resource: string;
  severity: Severity;
  message: string;
}

export interface HardeningException {
  check: string;
  /** `Kind/name`, or `Kind/*` for every object of that kind. */
  resource: string;
  reason: string;
  owner: string;
  /** The last day it holds (YYYY-MM-DD, UTC). */
  expires: string;
}

export interface Verdict {
  /** Each a sentence naming the check, the resource and what to do. Empty: the check passes. */
  failures: string[];
  /** Findings an exception covers, and medium ones: reported, not failing. */
  notes: string[];
}

const FIELDS = ['check', 'resource', 'reason', 'owner', 'expires'] as const;

/** Every entry checked: one with a field missing fails the check rather than excusing anything. */
export function parseExceptions(doc: unknown): { exceptions: HardeningException[]; problems: string[] } {
  const list = (doc as { exceptions?: unknown } | null)?.exceptions;
  if (!Array.isArray(list))
    return { exceptions: [], problems: ['exceptions.yaml: `exceptions` must be a list'] };
  const exceptions: HardeningException[] = [];
  const problems: string[] = [];
  list.forEach((entry: Record<string, unknown>, i) => {
    const missing = FIELDS.filter((f) => typeof entry?.[f] !== 'string' || entry[f] === '');
    if (missing.length > 0)
      return problems.push(`exceptions.yaml entry ${i + 1}: missing ${missing.join(', ')}`);
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(entry.expires as string) ||
      Number.isNaN(Date.parse(entry.expires as string))
    )
      return problems.push(`exceptions.yaml entry ${i + 1}: expires must be a date YYYY-MM-DD`);
    exceptions.push(entry as unknown as HardeningException);
  });
  return { exceptions, problems };
}

function covers(exception: HardeningException, finding: Finding): boolean {
  if (exception.check !== finding.check) return false;
  if (exception.resource === finding.resource) return true;
  return exception.resource.endsWith('/*') && finding.resource.startsWith(exception.resource.slice(0, -1));
}

/** `today` is YYYY-MM-DD (UTC), injected so a test can move it. */
export function judge(findings: Finding[], exceptionsDoc: unknown, today: string): Verdict {
  const { exceptions, problems } = parseExceptions(exceptionsDoc);
  const failures = [...problems];
  const notes: string[] = [];
  for (const e of exceptions)
    if (e.expires < today)
      failures.push(
        `exception for ${e.check} on ${e.resource} expired on ${e.expires} (owner ${e.owner}): fix the finding, or renew it with a reason`,
      );
  // An expired exception excuses nothing: its findings fail again beside it.
  const live = exceptions.filter((e) => e.expires >= today);
  for (const f of findings) {
    const exception = live.find((e) => covers(e, f));
    const where = `${f.severity} ${f.check} on ${f.resource}: ${f.message}`;
    if (exception) notes.push(`${where} (excepted until ${exception.expires}: ${exception.reason})`);
    else if (f.severity === 'high')
      failures.push(
        `${where} — fix it, or add an exception to ops/hardening/exceptions.yaml (check, resource, reason, owner, expires)`,
      );
    else notes.push(where);
  }
  for (const e of exceptions)
    if (!findings.some((f) => covers(e, f)))
      notes.push(`exception for ${e.check} on ${e.resource} matches no finding: remove it`);
  return { failures, notes };
}
