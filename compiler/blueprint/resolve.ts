// `blueprints/<name>@<range>` → the highest version the catalog has that satisfies the range,
// exactly as `uses: tasks/<name>@<range>` resolves (the same semver rules, the same hints).
import { semverLibrary } from '../libraries.ts';
import type { BlueprintEntry, TaskCatalog } from '../../core/index.ts';
import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { closest } from '../validate-schema.ts';

export const blueprintPrefix = 'blueprints/';

export function resolveBlueprint(
  uses: string,
  catalog: TaskCatalog,
  pointer: string,
): { entry: BlueprintEntry } | { finding: Finding } {
  const at = uses.lastIndexOf('@');
  const name = uses.slice(blueprintPrefix.length, at);
  const range = uses.slice(at + 1);
  const fail = (code: Finding['code'], message: string, hint: string) => ({
    finding: { code, severity: 'error' as const, message, hint, pointer },
  });
  if (!/^[0-9]+(\.[0-9]+){0,2}$/.test(range) && semverLibrary().validRange(range) === null)
    return fail(
      Code.blueprintVersion,
      `${JSON.stringify(range)} is not a valid version range`,
      'write @1 (any 1.x), @1.2 or @1.2.3',
    );
  const blueprints = catalog.blueprints;
  const versions = blueprints?.versions(name) ?? [];
  if (versions.length === 0) {
    const names = blueprints?.names() ?? [];
    const near = closest(name, names);
    return fail(
      Code.unknownBlueprint,
      `the catalog has no blueprint \`${name}\``,
      near ? `did you mean \`blueprints/${near}\`?` : `available: ${names.join(', ') || '(none)'}`,
    );
  }
  const best = semverLibrary().maxSatisfying(
    versions.map((v) => v.version),
    range,
  );
  const entry = versions.find((v) => v.version === best);
  if (!entry)
    return fail(
      Code.blueprintVersion,
      `no version of blueprint \`${name}\` satisfies @${range}`,
      `available versions: ${semverLibrary()
        .rsort(versions.map((v) => v.version))
        .join(', ')}`,
    );
  return { entry };
}
