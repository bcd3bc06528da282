/**
 * A catalog task, as the compiler resolves `uses: tasks/<name>@<range>` and the engine runs it.
 * `tasks/` builds the built-in catalog from its folders; the compiler takes a catalog as input
 * (it stays pure), so operators and tests can supply their own.
 */
export interface CatalogEntry {
  name: string;
  /** Exact semver. */
  version: string;
  description: string;
  /** sha256 of the task package's files: the task's code digest. */
  digest: string;
  /** JSON Schema (2020-12) of the task's `with` inputs. */
  inputs: Record<string, unknown>;
  /** Output names the task writes. */
  outputs: string[];
  /** How to execute it locally: a Node entry file (absolute path), run with the engine's Node. */
  entry: string;
  /** Container image to use on container/kubernetes runners, when published. */
  image?: string;
  /** Hosts it contacts come from these `with` keys (for policy target hosts). */
  targetInputs?: string[];
}

export interface TaskCatalog {
  /** All versions of a task name, any order. */
  versions(name: string): readonly CatalogEntry[];
  names(): readonly string[];
}

export function catalogFromEntries(entries: readonly CatalogEntry[]): TaskCatalog {
  const byName = new Map<string, CatalogEntry[]>();
  for (const entry of entries) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  return {
    versions: (name) => byName.get(name) ?? [],
    names: () => [...byName.keys()].sort(),
  };
}
