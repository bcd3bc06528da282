import type { CatalogSource } from './generated/catalogs.ts';
import type { TasksLock } from './generated/tasks-lock.ts';

export type { CatalogSource, CatalogsFile } from './generated/catalogs.ts';
export type { LockedCatalog, LockedTask, TasksLock } from './generated/tasks-lock.ts';
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
  /**
   * How to execute it locally: a Node entry file (absolute path), run with the engine's Node.
   * A repository task's entry is relative to the source root (`.maestro/tasks/<name>/index.ts`),
   * since it runs from the attempt's workspace, which holds the source.
   */
  entry: string;
  /** A repository task in Python: the interpreter its task.json names (`python`), else python3. */
  interpreter?: string;
  /** Container image to use on container/kubernetes runners, when published. */
  image?: string;
  /** Hosts it contacts come from these `with` keys (for policy target hosts). */
  targetInputs?: string[];
  /** Support tier its task.json states (`support`); `maestro tasks list` shows a default otherwise. */
  support?: string;
  /**
   * A locked catalog task (`uses: <catalog>/<path>@<range>`): where `.maestro/tasks.lock` pinned
   * its code. Its `entry` is then relative to the attempt's workspace
   * (`.maestro/catalog-tasks/<catalog>/<path>/<file>`), where the engine places the fetched folder.
   */
  source?: { url: string; commit: string; path: string };
}

export interface TaskCatalog {
  /** All versions of a task name, any order. */
  versions(name: string): readonly CatalogEntry[];
  names(): readonly string[];
  /**
   * The repository's own tasks (`uses: ./.maestro/tasks/<name>`), read from the workflow's
   * source by the surface (workspace/repository-tasks.ts). Absent: no source was read.
   */
  repository?: RepositoryTasks;
  /**
   * The repository's shared catalogs (`uses: <catalog>/<path>@<range>`): `.maestro/catalogs.yaml`
   * and `.maestro/tasks.lock` as the surface read them. Absent: no source was read.
   */
  locked?: LockedCatalogs;
  /** Blueprints `spec.blueprint.uses: blueprints/<name>@<range>` resolves against (docs/blueprints.md). */
  blueprints?: BlueprintCatalog;
}

/** What a surface found in `.maestro/catalogs.yaml` and `.maestro/tasks.lock`. */
export interface LockedCatalogs {
  /** Where they were read from (for messages). */
  root: string;
  /** catalogs.yaml by catalog name; empty when there is no catalogs.yaml. */
  declared: ReadonlyMap<string, CatalogSource>;
  /** The lock; absent when there is no tasks.lock. */
  lock?: TasksLock;
  /** Why catalogs.yaml or tasks.lock cannot be used: every catalog `uses:` line reports it. */
  problem?: { code: string; message: string; hint: string };
}

/**
 * A blueprint: a reusable workflow body with typed parameters, instantiated by a manifest's
 * `spec.blueprint: { uses: blueprints/<name>@<range>, with: {…} }`. Read from
 * `blueprints/<name>/blueprint.yaml` by tasks/load-blueprints.ts; the compiler takes it as data.
 */
export interface BlueprintEntry {
  name: string;
  /** Exact semver. */
  version: string;
  description: string;
  /** sha256 of the blueprint's folder (the same digest as a task package's): pinned in the plan. */
  digest: string;
  /** Where it was read from, as diagnostics name it (`blueprints/ci-cd/blueprint.yaml`). */
  file: string;
  /** JSON Schema (2020-12) of `with`. */
  parameters: Record<string, unknown>;
  /** The workflow spec it instantiates (`${blueprint.<name>}` placeholders in it). */
  workflow: Record<string, unknown>;
  /** Runbooks it is operated with, by role (`promote`, `rollback`): paths in this install. */
  runbooks?: Record<string, string>;
}

export interface BlueprintCatalog {
  versions(name: string): readonly BlueprintEntry[];
  names(): readonly string[];
}

export function blueprintCatalogFromEntries(entries: readonly BlueprintEntry[]): BlueprintCatalog {
  const byName = new Map<string, BlueprintEntry[]>();
  for (const entry of entries) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  return { versions: (name) => byName.get(name) ?? [], names: () => [...byName.keys()].sort() };
}

/** What a surface found under `.maestro/tasks/` of the workflow's source. */
export interface RepositoryTasks {
  /** The source folder they were read from (for messages). */
  root: string;
  /** One per folder: its entry (`entry` relative to the source root), or why it cannot be used. */
  byName: ReadonlyMap<string, RepositoryTaskLookup>;
}

export type RepositoryTaskLookup =
  { entry: CatalogEntry } | { problem: { code: string; message: string; hint: string } };

/** `catalog` with the repository's own tasks beside its entries. */
export function withRepositoryTasks(
  catalog: TaskCatalog,
  repository: RepositoryTasks,
  locked?: LockedCatalogs,
): TaskCatalog {
  return {
    versions: (name) => catalog.versions(name),
    names: () => catalog.names(),
    repository,
    ...(locked ? { locked } : {}),
    ...(catalog.blueprints ? { blueprints: catalog.blueprints } : {}),
  };
}

/**
 * A catalog (of tasks or of blueprints) read by `load` on its first lookup, once: the built-in
 * catalog costs a read and digest of every package, and most compiles never look one up.
 */
export function lazyCatalog<Entry>(
  load: () => {
    versions(name: string): readonly Entry[];
    names(): readonly string[];
  },
): { versions(name: string): readonly Entry[]; names(): readonly string[] } {
  let loaded: ReturnType<typeof load> | undefined;
  return {
    versions: (name) => (loaded ??= load()).versions(name),
    names: () => (loaded ??= load()).names(),
  };
}

export function catalogFromEntries(entries: readonly CatalogEntry[]): TaskCatalog {
  const byName = new Map<string, CatalogEntry[]>();
  for (const entry of entries) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  return {
    versions: (name) => byName.get(name) ?? [],
    names: () => [...byName.keys()].sort(),
  };
}
