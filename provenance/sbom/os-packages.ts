/**
 * The OS package databases an image carries: Debian's dpkg status file and Alpine's apk
 * `installed` file. Both are small stanza formats (RFC 822-like fields, one blank line between
 * packages); parsed by hand because no maintained npm package reads them, and this is the part
 * an SBOM needs (name, version, architecture, source package) and nothing more.
 */

export interface OsPackage {
  ecosystem: 'deb' | 'apk';
  name: string;
  version: string;
  arch?: string;
}

/** Stanzas as field maps; continuation lines (leading space) are dropped: no field read here has them. */
function stanzas(text: string, separator: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(' ') || line.startsWith('\t')) continue;
      const at = line.indexOf(separator);
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + separator.length).trim());
    }
    if (fields.size > 0) out.push(fields);
  }
  return out;
}

/** Packages dpkg reports installed (`Status: install ok installed`); removed ones keep a stanza too. */
export function parseDpkgStatus(text: string): OsPackage[] {
  return stanzas(text, ':')
    .filter(
      (f) => f.has('Package') && f.has('Version') && /\binstalled$/.test(f.get('Status') ?? 'installed'),
    )
    .map((f) => ({
      ecosystem: 'deb' as const,
      name: f.get('Package')!,
      version: f.get('Version')!,
      ...(f.has('Architecture') ? { arch: f.get('Architecture')! } : {}),
    }));
}

/** apk's database: `P:` name, `V:` version, `A:` architecture. */
export function parseApkInstalled(text: string): OsPackage[] {
  return stanzas(text, ':')
    .filter((f) => f.has('P') && f.has('V'))
    .map((f) => ({
      ecosystem: 'apk' as const,
      name: f.get('P')!,
      version: f.get('V')!,
      ...(f.has('A') ? { arch: f.get('A')! } : {}),
    }));
}

/** `ID=` of os-release (debian, ubuntu, alpine …): the purl namespace of its packages. */
export function osReleaseId(text: string | undefined): string | undefined {
  const id = /^ID="?([A-Za-z0-9._-]+)"?\s*$/m.exec(text ?? '')?.[1];
  return id?.toLowerCase();
}
