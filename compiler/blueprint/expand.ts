// The blueprint pass: `spec.blueprint: { uses: blueprints/<name>@<range>, with: {…} }` becomes
// the workflow the blueprint describes, before the schema and the analysis see the manifest.
// Pure like the rest of the compiler: the blueprints are in the catalog (read by tasks/).
// Every later finding about what the blueprint supplied is moved to the user's `uses` line and
// names the blueprint file and the place in it (`remap`): the user's file is where they look.
import type { BlueprintEntry, TaskCatalog } from '../../core/index.ts';
import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { unescapePointer } from '../finding.ts';
import { withValidator } from '../resolve-catalog.ts';
import { forEachTemplate } from '../expressions.ts';
import { blueprintPrefix, resolveBlueprint } from './resolve.ts';
import { instantiate, withDefaults } from './instantiate.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the plan pins: the blueprint resolved, by exact version and digest. */
export interface BlueprintPin {
  uses: string;
  name: string;
  version: string;
  digest: string;
}

export interface Expansion {
  /** The manifest to compile: the user's, with the blueprint's workflow merged in. */
  value: unknown;
  findings: Finding[];
  pin?: BlueprintPin;
  /** Moves a finding about blueprint-supplied content to the user's `uses`. */
  remap(finding: Finding): Finding;
}

const USES = '/spec/blueprint/uses';

export function expandBlueprint(manifest: unknown, catalog: TaskCatalog): Expansion {
  const same: Expansion = { value: manifest, findings: [], remap: (f) => f };
  if (!isRecord(manifest) || !isRecord(manifest.spec) || !isRecord(manifest.spec.blueprint)) return same;
  const spec = manifest.spec;
  const blueprint = manifest.spec.blueprint;
  const uses = blueprint.uses;
  // A malformed `uses` or `with` is the schema's to report (the blueprint is kept in the spec).
  if (typeof uses !== 'string' || !uses.startsWith(blueprintPrefix) || !uses.includes('@')) return same;
  const findings: Finding[] = [];
  if (spec.tasks !== undefined)
    findings.push({
      code: Code.blueprintWithTasks,
      severity: 'error',
      message: '`spec.tasks` and `spec.blueprint` together: the blueprint supplies the tasks',
      hint: 'remove spec.tasks, or drop spec.blueprint and write the tasks yourself',
      pointer: '/spec/tasks',
      onKey: true,
    });
  const resolved = resolveBlueprint(uses, catalog, USES);
  if ('finding' in resolved)
    return { ...same, findings: [...findings, resolved.finding], value: withoutBlueprint(manifest) };
  const entry = resolved.entry;
  const given = isRecord(blueprint.with) ? blueprint.with : {};
  findings.push(...expressionsIn(given), ...checkParameters(entry, given));
  if (findings.some((f) => f.severity === 'error'))
    return { ...same, findings, value: withoutBlueprint(manifest) };
  const made = instantiate(entry.workflow, withDefaults(entry.parameters, given));
  for (const p of made.problems) findings.push(insideBlueprint(entry, p.code, p.pointer, p.message));
  const own = new Set(Object.keys(spec).filter((k) => k !== 'blueprint'));
  const userParams = isRecord(spec.params) ? spec.params : {};
  const merged: Rec = { ...made.value, ...spec };
  if (isRecord(made.value.params)) merged.params = { ...made.value.params, ...userParams };
  return {
    value: { ...manifest, spec: merged },
    findings,
    pin: { uses, name: entry.name, version: entry.version, digest: entry.digest },
    remap(f) {
      const tokens = unescapePointer(f.pointer);
      if (tokens[0] !== 'spec' || tokens.length < 2) return f;
      const key = tokens[1] as string;
      if (key === 'blueprint' || (own.has(key) && !(key === 'params' && !(String(tokens[2]) in userParams))))
        return f;
      const inside = `/spec/workflow${f.pointer.slice('/spec'.length)}`;
      return insideBlueprint(entry, f.code, inside, f.message, f.hint, f.severity);
    },
  };
}

/** A problem in the blueprint, placed at the user's `uses`, naming the file and the place. */
function insideBlueprint(
  entry: BlueprintEntry,
  code: Finding['code'],
  pointer: string,
  message: string,
  hint?: string,
  severity: Finding['severity'] = 'error',
): Finding {
  return {
    code: code === Code.blueprintScriptParameter ? code : Code.blueprintInvalid,
    severity,
    message: `in blueprint ${entry.name}@${entry.version} (${entry.file}, at ${pointer}): [${code}] ${message}`,
    hint:
      hint ??
      (code === Code.blueprintScriptParameter
        ? 'the blueprint must pass the parameter through env: and the script read it as "$NAME"'
        : `check the parameters in with: against ${entry.file}, or report it to the blueprint's owner`),
    pointer: USES,
  };
}

/** `with` is data: an expression there could read a secret or the blueprint's context (MS5004). */
function expressionsIn(given: Rec): Finding[] {
  const found: Finding[] = [];
  forEachTemplate(given, (text, path) => {
    if (!text.includes('${')) return;
    found.push({
      code: Code.blueprintWithExpression,
      severity: 'error',
      message: 'a blueprint parameter holds a `${...}` expression; parameters are data',
      hint: 'give the value itself; secrets reach the blueprint’s tasks by name (its tasks declare them), never through with:',
      pointer: `/spec/blueprint/with${path()
        .map((t) => `/${String(t).replace(/~/g, '~0').replace(/\//g, '~1')}`)
        .join('')}`,
    });
  });
  return found;
}

function checkParameters(entry: BlueprintEntry, given: Rec): Finding[] {
  const check = withValidator();
  const asTask = {
    name: `./blueprints/${entry.name}`,
    version: entry.version,
    description: '',
    digest: entry.digest,
    inputs: entry.parameters,
    outputs: [],
    entry: entry.file,
  };
  return check(asTask, given, '/spec/blueprint/with').map((f) => ({
    ...f,
    code: f.code === Code.invalidWith ? Code.blueprintParams : f.code,
  }));
}

/** The user's manifest without the blueprint's tasks (it did not resolve): no noise about them. */
function withoutBlueprint(manifest: Rec): Rec {
  const spec = manifest.spec as Rec;
  return { ...manifest, spec: { ...spec, tasks: spec.tasks ?? [{ id: 'blueprint', run: 'true' }] } };
}
