/**
 * The SBOM tables of the API store, shared by its SQLite and PostgreSQL implementations: one row
 * per stored SBOM (the document unchanged, what it describes) and one per component it lists,
 * indexed by name so "which releases and images contain X" is one indexed lookup. Column names
 * are the same in both stores, so one mapping serves both.
 */
import { componentName, type SbomComponent } from '../provenance/index.ts';
import type { SbomMatch, StoredSbom } from './api-store.ts';
import type { ApiRow } from './api-rows.ts';

export const SBOM_COLUMNS = 'digest, kind, subject, version, subject_digest, document, created_at';
export const COMPONENT_COLUMNS = 'sbom_digest, full_name, name, grp, version, purl, type';

export function sbomValues(s: StoredSbom): (string | number | null)[] {
  return [s.digest, s.kind, s.subject, s.version, s.subjectDigest, s.document, s.createdAt];
}

export function componentValues(sbomDigest: string, c: SbomComponent): (string | null)[] {
  return [sbomDigest, componentName(c), c.name, c.group ?? null, c.version, c.purl ?? null, c.type];
}

/** The same component listed twice (nested copies) is stored once. */
export function uniqueComponents(components: SbomComponent[]): SbomComponent[] {
  const seen = new Map<string, SbomComponent>();
  for (const c of components) seen.set(`${componentName(c)}\u0000${c.version}\u0000${c.purl ?? ''}`, c);
  return [...seen.values()];
}

export function toSbom(row: ApiRow | undefined): StoredSbom | undefined {
  if (!row) return undefined;
  return {
    digest: String(row.digest),
    kind: String(row.kind) as StoredSbom['kind'],
    subject: String(row.subject),
    version: row.version === null ? null : String(row.version),
    subjectDigest: String(row.subject_digest),
    document: String(row.document),
    createdAt: Number(row.created_at),
  };
}

/** A joined row (sbom columns, then the component's as c_*). */
export function toMatch(row: ApiRow): SbomMatch {
  const { document: _document, ...sbom } = toSbom({ ...row, document: '' })!;
  return {
    sbom,
    component: {
      name: String(row.c_name),
      ...(row.c_grp === null ? {} : { group: String(row.c_grp) }),
      version: String(row.c_version),
      ...(row.c_purl === null ? {} : { purl: String(row.c_purl) }),
      type: String(row.c_type),
    },
  };
}

/** The join both stores run; `$NAME` is replaced by each store's placeholder. */
export const MATCH_SELECT = `SELECT s.digest, s.kind, s.subject, s.version, s.subject_digest, s.created_at,
  c.name AS c_name, c.grp AS c_grp, c.version AS c_version, c.purl AS c_purl, c.type AS c_type
  FROM sbom_components c JOIN sboms s ON s.digest = c.sbom_digest`;
