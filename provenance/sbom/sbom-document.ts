/**
 * Reading CycloneDX JSON documents (any spec version Maestro or cyclonedx-npm writes: 1.4–1.6):
 * the checks that make a document worth storing, and its components flattened (nested
 * `components` included) into the rows the SBOM store indexes. Only the fields a query or a diff
 * needs are read; the document itself is stored unchanged.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/index.ts';
import { SbomError, SbomReason } from './sbom-errors.ts';

/** The in-toto predicate type of a CycloneDX SBOM (what `cosign attest --type cyclonedx` writes). */
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';

export interface SbomComponent {
  name: string;
  group?: string;
  version: string;
  purl?: string;
  type: string;
}

export interface ParsedSbom {
  /** `sha256:<hex>` of the document's canonical JSON: the same document always has one digest. */
  digest: string;
  bom: Record<string, unknown>;
  /** The component the SBOM describes (metadata.component), when it names one. */
  describes?: SbomComponent;
  components: SbomComponent[];
}

interface RawComponent {
  type?: unknown;
  name?: unknown;
  group?: unknown;
  version?: unknown;
  purl?: unknown;
  components?: unknown;
}

function toComponent(raw: RawComponent, where: string): SbomComponent {
  if (typeof raw.name !== 'string' || raw.name === '')
    throw new SbomError(SbomReason.malformed, `${where}: a component has no name`);
  return {
    name: raw.name,
    ...(typeof raw.group === 'string' && raw.group !== '' ? { group: raw.group } : {}),
    version: typeof raw.version === 'string' ? raw.version : '',
    ...(typeof raw.purl === 'string' ? { purl: raw.purl } : {}),
    type: typeof raw.type === 'string' ? raw.type : 'library',
  };
}

function flatten(list: unknown, where: string, into: SbomComponent[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new SbomError(SbomReason.malformed, `${where}: components is not a list`);
  for (const raw of list as RawComponent[]) {
    if (typeof raw !== 'object' || raw === null)
      throw new SbomError(SbomReason.malformed, `${where}: a component is not an object`);
    into.push(toComponent(raw, where));
    flatten(raw.components, where, into);
  }
}

/** Parses and checks a CycloneDX JSON document; `where` names it in errors (a file, an image). */
export function parseSbom(input: string | Buffer | unknown, where: string): ParsedSbom {
  let bom: unknown = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      bom = JSON.parse(input.toString());
    } catch {
      throw new SbomError(SbomReason.malformed, `${where} is not JSON`, {
        hint: 'give a CycloneDX JSON document (XML is not read)',
      });
    }
  }
  const doc = bom as { bomFormat?: unknown; specVersion?: unknown; metadata?: { component?: RawComponent } };
  if (
    typeof bom !== 'object' ||
    bom === null ||
    doc.bomFormat !== 'CycloneDX' ||
    typeof doc.specVersion !== 'string'
  )
    throw new SbomError(
      SbomReason.malformed,
      `${where} is not a CycloneDX document (bomFormat, specVersion)`,
    );
  const components: SbomComponent[] = [];
  flatten((bom as { components?: unknown }).components, where, components);
  const meta = doc.metadata?.component;
  return {
    digest: `sha256:${createHash('sha256').update(canonicalJson(bom)).digest('hex')}`,
    bom: bom as Record<string, unknown>,
    ...(meta && typeof meta === 'object' ? { describes: toComponent(meta, `${where} metadata`) } : {}),
    components,
  };
}

/** `group/name` for npm scopes and Maven groups, else the name: what `--component` matches. */
export function componentName(c: { name: string; group?: string }): string {
  return c.group ? `${c.group}/${c.name}` : c.name;
}
