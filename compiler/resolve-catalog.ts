import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { CatalogEntry, TaskCatalog } from '../core/index.ts';
import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { linearRegExp } from './linear-regexp.ts';
import { ajvErrorsToFindings, closest } from './validate-schema.ts';
import { scanTemplate } from './expressions.ts';
import { ajv2020Library, semverLibrary } from './libraries.ts';

/** `tasks/<name>@<range>` → the highest catalog version satisfying the range. */
export function resolveUses(
  uses: string,
  catalog: TaskCatalog,
  pointer: string,
): { entry: CatalogEntry } | { finding: Finding } {
  const at = uses.lastIndexOf('@');
  const name = uses.slice('tasks/'.length, at);
  const range = uses.slice(at + 1);
  const semver = semverLibrary();
  if (!/^[0-9]+(\.[0-9]+){0,2}$/.test(range) && semver.validRange(range) === null)
    return {
      finding: {
        code: Code.invalidVersionRange,
        severity: 'error',
        message: `${JSON.stringify(range)} is not a valid version range`,
        hint: 'write @1 (any 1.x), @1.2 (any 1.2.x) or @1.2.3 (exact)',
        pointer,
      },
    };
  const versions = catalog.versions(name);
  if (versions.length === 0) {
    const near = closest(name, catalog.names());
    return {
      finding: {
        code: Code.unknownCatalogTask,
        severity: 'error',
        message: `the catalog has no task \`${name}\``,
        hint: near
          ? `did you mean \`tasks/${near}\`?`
          : `available: ${catalog.names().join(', ') || '(none)'}`,
        pointer,
      },
    };
  }
  const best = semver.maxSatisfying(
    versions.map((v) => v.version),
    range,
  );
  const entry = versions.find((v) => v.version === best);
  if (!entry)
    return {
      finding: {
        code: Code.noMatchingVersion,
        severity: 'error',
        message: `no version of \`${name}\` satisfies @${range}`,
        hint: `available versions: ${semver.rsort(versions.map((v) => v.version)).join(', ')}`,
        pointer,
      },
    };
  return { entry };
}

/**
 * Validates `with` against catalog input schemas. One per compile: ajv caches compiled schemas
 * in the instance, so it lives only as long as one compilation (no module-level mutable state).
 */
export function withValidator(): (entry: CatalogEntry, value: unknown, pointer: string) => Finding[] {
  let ajv: Ajv2020 | undefined; // created on first use: most manifests use few catalog tasks
  const compiled = new Map<CatalogEntry, ValidateFunction | string>();
  return (entry, value, pointer) => {
    let validate = compiled.get(entry);
    if (validate === undefined) {
      try {
        ajv ??= new (ajv2020Library().Ajv2020)({
          allErrors: true,
          strict: false,
          verbose: true,
          code: { regExp: linearRegExp },
        });
        validate = ajv.compile(entry.inputs);
      } catch (error) {
        validate = error instanceof Error ? error.message : String(error);
      }
      compiled.set(entry, validate);
    }
    if (typeof validate === 'string')
      return [
        {
          code: Code.unsafeCatalogSchema,
          severity: 'error',
          message: `the input schema of ${entry.name.includes('/') ? entry.name : `tasks/${entry.name}`}@${entry.version} cannot be used: ${validate}`,
          hint: 'fix the task package’s task.json (its author owns it)',
          pointer,
        },
      ];
    if (validate(value)) return [];
    // A value holding an expression is checked at dispatch time, when it is known.
    return ajvErrorsToFindings(validate.errors ?? [], pointer)
      .filter((f) => !holdsExpression(value, f.pointer.slice(pointer.length)))
      .map((f) => ({ ...f, code: Code.invalidWith }));
  };
}

function holdsExpression(root: unknown, pointer: string): boolean {
  let value = root;
  for (const token of pointer.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return false;
    value = (value as Record<string, unknown>)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (typeof value === 'string' && scanTemplate(value).refs.length > 0) return true;
  }
  return typeof value === 'string' && scanTemplate(value).refs.length > 0;
}
