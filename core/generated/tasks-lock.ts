// Generated from schemas/tasks-lock.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * `.maestro/tasks.lock`, written by `maestro tasks lock`: every catalog task the repository's workflows use, pinned to a commit and a digest of its folder, with its input and output spec, so that compiling checks `with:` from the lock alone and a run fetches exactly what was locked.
 */
export interface TasksLock {
  lockVersion: 1;
  /**
   * By catalog name: the url and ref catalogs.yaml named when the lock was made, and the commit the ref resolved to.
   */
  catalogs: {
    [k: string]: LockedCatalog;
  };
  /**
   * By `<catalog>/<path>` (a `uses:` without its range).
   */
  tasks: {
    [k: string]: LockedTask;
  };
}
/**
 * This interface was referenced by `TasksLock`'s JSON-Schema
 * via the `definition` "LockedCatalog".
 */
export interface LockedCatalog {
  url: string;
  ref: string;
  commit: string;
}
/**
 * This interface was referenced by `TasksLock`'s JSON-Schema
 * via the `definition` "LockedTask".
 */
export interface LockedTask {
  catalog: string;
  /**
   * The task's folder in the catalog repository.
   */
  path: string;
  commit: string;
  /**
   * `name` in the task's task.json
   */
  name: string;
  /**
   * `version` in the task's task.json (exact semver)
   */
  version: string;
  description: string;
  support?: string;
  /**
   * sha256 over every file of the folder (sorted paths; path, NUL, length, NUL, bytes): checked again after every fetch
   */
  digest: string;
  /**
   * The entry file in the folder
   */
  entry: string;
  /**
   * A Python task's interpreter
   */
  interpreter?: string;
  /**
   * JSON Schema (2020-12) of `with:`
   */
  inputs: {};
  outputs: string[];
  targetInputs?: string[];
}
