/**
 * The runbooks SIG may trigger (POST /v1/runbooks/{namespace}/{name}/trigger): one YAML (or JSON)
 * file, named by `MAESTRO_RUNBOOKS_FILE`, read afresh for every trigger so an edit takes effect
 * without a restart. Each namespace lists the runbooks it allows; a runbook `rollback` of `ops`
 * is the workflow `ops/rollback` stored on the server (its newest version):
 *
 *   namespaces:
 *     ops: [rollback, chaos-drill]
 *
 * No file: nothing can be triggered (fail closed).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MaestroError, Fault } from '../core/index.ts';

export const RUNBOOKS_FILE_VARIABLE = 'MAESTRO_RUNBOOKS_FILE';

/** Runbook names allowed, by namespace. */
export type RunbookAllowList = ReadonlyMap<string, ReadonlySet<string>>;

export class RunbooksFileError extends MaestroError {
  constructor(file: string, problem: string, cause?: unknown) {
    super('runbooks_file_invalid', `the runbooks file ${file} ${problem}`, {
      fault: Fault.user,
      hint: `${RUNBOOKS_FILE_VARIABLE} must name a YAML file of the form "namespaces: { ops: [rollback] }" (docs/server.md)`,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

// A manifest's metadata.name and namespace (schemas/manifest.schema.json).
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Reads and checks the runbooks file; `undefined` (no file configured) allows nothing. */
export function readRunbooksFile(file: string | undefined): RunbookAllowList {
  if (file === undefined) return new Map();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RunbooksFileError(file, 'cannot be read', cause);
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0 });
  } catch (cause) {
    throw new RunbooksFileError(file, `is not YAML: ${(cause as Error).message}`, cause);
  }
  const namespaces = (doc as { namespaces?: unknown } | null)?.namespaces;
  if (namespaces === null || typeof namespaces !== 'object' || Array.isArray(namespaces))
    throw new RunbooksFileError(file, 'has no "namespaces" mapping');
  const out = new Map<string, Set<string>>();
  for (const [namespace, names] of Object.entries(namespaces)) {
    if (!NAME.test(namespace))
      throw new RunbooksFileError(file, `names a namespace ${JSON.stringify(namespace)} that is not a name`);
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && NAME.test(n)))
      throw new RunbooksFileError(
        file,
        `lists runbooks of ${namespace} that are not a list of workflow names`,
      );
    out.set(namespace, new Set(names as string[]));
  }
  return out;
}

export function isAllowedRunbook(list: RunbookAllowList, namespace: string, name: string): boolean {
  return list.get(namespace)?.has(name) === true;
}
