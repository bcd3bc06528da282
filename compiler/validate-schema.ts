import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import manifestSchema from '../schemas/manifest.schema.json' with { type: 'json' };
import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { escapePointerToken } from './finding.ts';

// Compiled once per process; the compiled function is immutable. The manifest schema's patterns
// are all linear (no nested quantifiers), so the default RegExp engine cannot backtrack on them.
const validate = new Ajv2020({
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  verbose: true,
}).compile(manifestSchema);

/** Validates a parsed manifest against schemas/manifest.schema.json; one finding per problem. */
export function validateManifestSchema(value: unknown): Finding[] {
  if (validate(value)) return [];
  return ajvErrorsToFindings(validate.errors ?? []);
}

/** Maps ajv errors to findings with readable messages, folding oneOf/anyOf noise into one line. */
export function ajvErrorsToFindings(errors: readonly ErrorObject[], basePointer = ''): Finding[] {
  const alternatives = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const underAlternative = (e: ErrorObject): boolean =>
    alternatives.some((a) => a !== e && e.schemaPath.startsWith(`${a.schemaPath}/`));
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (underAlternative(error) || error.keyword === 'propertyNames' || error.keyword === 'if') continue;
    const finding = toFinding(error, errors, basePointer);
    const key = `${finding.pointer}\u0000${finding.code}\u0000${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

function toFinding(error: ErrorObject, all: readonly ErrorObject[], base: string): Finding {
  const pointer = base + error.instancePath;
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const finding = (code: Finding['code'], message: string, extra: Partial<Finding> = {}): Finding => ({
    code,
    severity: 'error',
    message,
    pointer,
    ...extra,
  });
  if (error.propertyName !== undefined)
    return finding(Code.badFormat, `invalid name ${JSON.stringify(error.propertyName)}`, {
      pointer: `${pointer}/${escapePointerToken(error.propertyName)}`,
      onKey: true,
      hint: describeExpected(parent),
    });
  if (
    error.keyword === 'not' &&
    parent.title === 'ManifestTask' &&
    !error.schemaPath.includes('/dependentSchemas/')
  )
    return finding(Code.taskAction, 'the task has none of `run`, `uses` or `image`', {
      hint: 'add `run: <command>`, `uses: tasks/<name>@<version>` or `image: <image>`',
    });
  if (error.keyword === 'not' && error.schemaPath.includes('/dependentSchemas/run/'))
    return finding(Code.taskAction, 'a task with `run` cannot also have `uses` or `image`', {
      hint: 'keep exactly one of `run`, `uses` or `image`; split the work into two tasks if you need both',
    });
  if (error.keyword === 'not' && error.schemaPath.includes('/dependentSchemas/uses/'))
    return finding(Code.taskAction, 'a task with `uses` cannot also have `image`', {
      hint: 'keep exactly one of `run`, `uses` or `image`',
    });
  if (error.keyword === 'required' && /\/dependentSchemas\/(command|args)\//.test(error.schemaPath))
    return finding(Code.taskAction, '`command` and `args` need `image`', {
      hint: 'add `image:`, or use `run:` with an argv list instead',
    });
  switch (error.keyword) {
    case 'required':
      return finding(Code.missingProperty, `missing required property \`${String(params.missingProperty)}\``);
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
      const close = closest(name, allowed);
      return finding(Code.unknownProperty, `unknown property \`${name}\``, {
        pointer: `${pointer}/${escapePointerToken(name)}`,
        onKey: true,
        hint: close
          ? `did you mean \`${close}\`?`
          : allowed.length > 0
            ? `allowed here: ${allowed.join(', ')}`
            : undefined,
      });
    }
    case 'type':
      return finding(Code.wrongType, `expected ${formatTypes(params.type)}, got ${typeName(error.data)}`, {
        hint: describeExpected(parent),
      });
    case 'const':
      return finding(Code.notAllowed, `must be ${JSON.stringify(params.allowedValue)}`);
    case 'enum':
      return finding(
        Code.notAllowed,
        `${JSON.stringify(error.data)} is not allowed; expected one of ${(params.allowedValues as unknown[])
          .map((v) => JSON.stringify(v))
          .join(', ')}`,
      );
    case 'pattern':
      if (parent.title === 'ManifestDuration' || error.schemaPath.startsWith('#/$defs/Duration/'))
        return finding(Code.invalidDuration, `invalid duration ${JSON.stringify(error.data)}`, {
          hint: 'write <integer><unit> parts with units ms, s, m, h, d, e.g. 500ms, 2s, 10m, 1h30m',
        });
      return finding(Code.badFormat, `${JSON.stringify(error.data)} does not have the expected format`, {
        hint: describeExpected(parent),
      });
    case 'oneOf':
    case 'anyOf': {
      const types = all
        .filter((e) => e.keyword === 'type' && e.schemaPath.startsWith(`${error.schemaPath}/`))
        .map((e) => formatTypes((e.params as Record<string, unknown>).type));
      return finding(
        Code.wrongType,
        types.length > 0 ? `expected ${[...new Set(types)].join(' or ')}` : 'does not match any allowed form',
        { hint: describeExpected(parent) },
      );
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
    case 'minProperties':
    case 'maxProperties':
    case 'uniqueItems':
      return finding(Code.outOfRange, error.message ?? `violates ${error.keyword}`);
    default:
      return finding(Code.schemaOther, error.message ?? `violates ${error.keyword}`, {
        hint: describeExpected(parent),
      });
  }
}

function formatTypes(type: unknown): string {
  const list = Array.isArray(type) ? type : String(type).split(',');
  return list.map((t) => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : `a ${t}`)).join(' or ');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

function describeExpected(schema: Record<string, unknown>): string | undefined {
  const examples = Array.isArray(schema.examples) ? schema.examples.slice(0, 2) : [];
  const description = typeof schema.description === 'string' ? schema.description : '';
  const text = [
    description,
    examples.length > 0 ? `e.g. ${examples.map((e) => JSON.stringify(e)).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return text || undefined;
}

/** The allowed name nearest to a typo (edit distance ≤ 2), for "did you mean" hints. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase(), bestDistance);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap || a.length > 64 || b.length > 64) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] as number;
}
