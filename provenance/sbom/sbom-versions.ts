/**
 * Version ranges over component versions, and the difference of two SBOMs. Ranges are npm's
 * semver ranges (the `semver` package): `^1.2`, `>=2.0.0 <3`, `1.x`. A version that is not semver
 * (Debian's `2.36-9+deb12u4`, Alpine's `1.36.1-r15`) is compared by its leading
 * `major.minor.patch` (`semver.coerce`), so `--version '<2.37'` still finds that libc6.
 */
import { semverLibrary } from '../libraries.ts';
import { componentName, type SbomComponent } from './sbom-document.ts';
import { SbomError, SbomReason } from './sbom-errors.ts';

/** Checks a range before any store is asked; the error names it. */
export function parseVersionRange(range: string): string {
  const valid = semverLibrary().validRange(range, { loose: true });
  if (valid === null)
    throw new SbomError(SbomReason.rangeInvalid, `--version ${JSON.stringify(range)} is not a semver range`, {
      hint: "give a range such as '^7.5', '>=2.0.0 <3' or '1.x'",
    });
  return valid;
}

export function versionSatisfies(version: string, range: string): boolean {
  const semver = semverLibrary();
  const exact = semver.valid(version, { loose: true }) ?? semver.coerce(version)?.version;
  return exact !== undefined && exact !== null && semver.satisfies(exact, range, { loose: true });
}

export interface SbomDiff {
  added: SbomComponent[];
  removed: SbomComponent[];
  changed: { name: string; from: string; to: string }[];
}

/** What identifies a component across versions: its purl without the version, else its name. */
function identity(c: SbomComponent): string {
  if (c.purl) return c.purl.replace(/@[^?#]*/, '');
  return `${c.type}:${componentName(c)}`;
}

function byIdentity(list: SbomComponent[]): Map<string, SbomComponent[]> {
  const map = new Map<string, SbomComponent[]>();
  for (const c of list) map.set(identity(c), [...(map.get(identity(c)) ?? []), c]);
  return map;
}

const versionsOf = (list: SbomComponent[]) => [...new Set(list.map((c) => c.version))].sort().join(', ');

/** Components only in `b` (added), only in `a` (removed), and in both at other versions (changed). */
export function diffSboms(a: SbomComponent[], b: SbomComponent[]): SbomDiff {
  const before = byIdentity(a);
  const after = byIdentity(b);
  const diff: SbomDiff = { added: [], removed: [], changed: [] };
  for (const [key, list] of after) {
    const old = before.get(key);
    if (!old) diff.added.push(...list);
    else if (versionsOf(old) !== versionsOf(list))
      diff.changed.push({ name: componentName(list[0]!), from: versionsOf(old), to: versionsOf(list) });
  }
  for (const [key, list] of before) if (!after.has(key)) diff.removed.push(...list);
  const order = (x: { name: string }, y: { name: string }) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
  diff.added.sort(order);
  diff.removed.sort(order);
  diff.changed.sort(order);
  return diff;
}
