// The built-in blueprints: every `blueprints/<name>/blueprint.yaml` of this install, read once
// into the catalog the compiler resolves `spec.blueprint.uses` against (the compiler stays pure).
// A blueprint's digest is its folder's (packageDigest), so a change to it changes the plans made
// from it. A broken blueprint file is the install's fault: it fails loudly, naming the file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';
import { blueprintCatalogFromEntries, InputError } from '../core/index.ts';
import type { BlueprintCatalog, BlueprintEntry } from '../core/index.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Blueprints under `root` (the `blueprints/` folder); `digestOf` digests a blueprint's folder. */
export function loadBlueprints(root: string, digestOf: (folder: string) => string): BlueprintCatalog {
  const entries: BlueprintEntry[] = [];
  const dirents = existsSync(root) ? readdirSync(root, { withFileTypes: true }) : [];
  for (const dirent of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!dirent.isDirectory()) continue;
    const folder = join(root, dirent.name);
    const file = join(folder, 'blueprint.yaml');
    if (!existsSync(file)) continue; // not a blueprint (runbooks/, say)
    const text = readFileSync(file, 'utf8');
    entries.push({
      ...parseBlueprint(text, `blueprints/${dirent.name}/blueprint.yaml`),
      digest: digestOf(folder),
    });
  }
  return blueprintCatalogFromEntries(entries);
}

/** A blueprint.yaml's fields; `file` names it in errors and diagnostics. */
export function parseBlueprint(text: string, file: string): Omit<BlueprintEntry, 'digest'> {
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    throw new InputError('blueprint_invalid', `${file} is not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const bad = (what: string) => new InputError('blueprint_invalid', `${file}: ${what}`);
  if (!isRecord(doc) || doc.kind !== 'Blueprint') throw bad('must be a mapping with kind: Blueprint');
  const metadata = isRecord(doc.metadata) ? doc.metadata : {};
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const { name, version, description } = metadata;
  if (typeof name !== 'string' || typeof version !== 'string' || typeof description !== 'string')
    throw bad('metadata needs string name, version and description');
  if (!isRecord(spec.parameters) || !isRecord(spec.workflow))
    throw bad('spec needs parameters (a JSON Schema) and workflow');
  const runbooks = isRecord(spec.runbooks)
    ? Object.fromEntries(Object.entries(spec.runbooks).map(([k, v]) => [k, String(v)]))
    : undefined;
  return {
    name,
    version,
    description,
    file,
    parameters: spec.parameters,
    workflow: spec.workflow,
    ...(runbooks ? { runbooks } : {}),
  };
}
