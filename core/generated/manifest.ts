// Generated from schemas/manifest.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * Name of the workflow or runbook, unique within its namespace.
 */
export type ManifestName = string;
/**
 * Namespace (usually a team). Defaults to `default`.
 */
export type ManifestName1 = string;
/**
 * What the workflow does and under which rules: its `tasks`, or a `blueprint` that supplies them (one of the two is required).
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Spec".
 */
export type ManifestSpec = Spec & Spec1;
export type Spec = {tasks: [ManifestTask, ...ManifestTask[]]} | {blueprint: ManifestBlueprintUse};
/**
 * A cron string (five fields: minute hour day-of-month month day-of-week, in UTC), or an object with `cron`, `timezone` and `catchUp`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "ScheduleEntry".
 */
export type ManifestScheduleEntry = ManifestCronExpression | ManifestSchedule;
/**
 * Five cron fields (minute hour day-of-month month day-of-week), or a macro such as `@daily`; checked at compile time.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "CronExpression".
 */
export type ManifestCronExpression = string;
/**
 * Five cron fields (minute hour day-of-month month day-of-week), or a macro such as `@daily`; checked at compile time.
 */
export type ManifestCronExpression1 = string;
/**
 * Whole-run timeout: the run is cancelled when it takes longer.
 */
export type ManifestDuration = string;
/**
 * Default runner. Defaults to `local`.
 */
export type ManifestRunner = 'local' | 'container' | 'kubernetes' | 'serverless';
/**
 * Default resource class. Defaults to `small`.
 */
export type ManifestResources = 'small' | 'medium' | 'large' | 'xlarge';
/**
 * Default timeout of one attempt of a task.
 */
export type ManifestDuration1 = string;
/**
 * Delay before the first retry. Defaults to `1s`.
 */
export type ManifestDuration2 = string;
/**
 * Largest delay between two attempts. Defaults to `5m`.
 */
export type ManifestDuration3 = string;
/**
 * Give up retrying when this much time has passed since the first attempt.
 */
export type ManifestDuration4 = string;
/**
 * How long a cached result stays valid. Absent means until evicted.
 */
export type ManifestDuration5 = string;
/**
 * A name usable in expressions: letters, digits, `_` and `-`, starting with a letter or `_`.
 */
export type ManifestIdentifier = string;
/**
 * The task must be able to finish this long after it becomes ready.
 */
export type ManifestDuration6 = string;
/**
 * Timeout of one attempt.
 */
export type ManifestDuration7 = string;
/**
 * Where a task runs: a local process, a container, a Kubernetes Job or a serverless function.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Runner".
 */
export type ManifestRunner1 = 'local' | 'container' | 'kubernetes' | 'serverless';
/**
 * Resource class of a task (CPU and memory the runner reserves).
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Resources".
 */
export type ManifestResources1 = 'small' | 'medium' | 'large' | 'xlarge';
/**
 * A name usable in expressions: letters, digits, `_` and `-`, starting with a letter or `_`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Identifier".
 */
export type ManifestIdentifier1 = string;
/**
 * A duration: one or more `<integer><unit>` parts, units `ms`, `s`, `m`, `h`, `d`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Duration".
 */
export type ManifestDuration8 = string;
/**
 * A lowercase DNS-label-like name.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Name".
 */
export type ManifestName2 = string;

/**
 * A Maestro manifest (`apiVersion: maestro/v1`): a Workflow or a Runbook, kept in a repository under `.maestro/workflows/` or `.maestro/runbooks/`. The compiler turns it into a Plan.
 */
export interface Manifest {
  /**
   * Version of the manifest language.
   */
  apiVersion: 'maestro/v1';
  /**
   * `Workflow` runs on triggers (push, pull request, schedule, manual); `Runbook` is an operational procedure started by a person, usually with params and approvals.
   */
  kind: 'Workflow' | 'Runbook';
  metadata: ManifestMetadata;
  spec: ManifestSpec;
}
/**
 * Who this manifest is: its name, namespace and labels.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Metadata".
 */
export interface ManifestMetadata {
  name: ManifestName;
  namespace?: ManifestName1;
  /**
   * Free-form string labels, for search and policy.
   */
  labels?: {
    [k: string]: string;
  };
}
export interface Spec1 {
  /**
   * Typed inputs of a run, referenced as `${params.<name>}`. A param without `default` is required when starting a run.
   */
  params?: {
    [k: string]: ManifestParam;
  };
  policy?: ManifestPolicy;
  approvals?: ManifestApprovals;
  budget?: ManifestBudget;
  triggers?: ManifestTriggers;
  timeout?: ManifestDuration;
  defaults?: ManifestDefaults;
  blueprint?: ManifestBlueprintUse;
  /**
   * The tasks of the workflow. Order matters only to break ties in the topological order. With `blueprint`, the blueprint supplies them: leave this out.
   *
   * @minItems 1
   * @maxItems 100000
   */
  tasks?: [ManifestTask, ...ManifestTask[]];
}
/**
 * One typed param.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Param".
 */
export interface ManifestParam {
  /**
   * JSON type of the value.
   */
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  /**
   * Value used when the run does not set the param; must have the param's type. Without a default the param is required.
   */
  default?: {
    [k: string]: unknown;
  };
  /**
   * What the param means, shown to the person starting a run.
   */
  description?: string;
}
/**
 * Policy context checked (with OPA) before every task runs.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Policy".
 */
export interface ManifestPolicy {
  /**
   * Why this workflow processes data.
   */
  purpose?: string;
  /**
   * Who authorises the processing (a legal basis or an owner).
   */
  authority?: string;
  /**
   * Licence under which produced data may be used.
   */
  license?: string;
}
/**
 * Approving pull-request reviews required before the run starts; approvals are bound to the plan digest and head commit.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Approvals".
 */
export interface ManifestApprovals {
  /**
   * How many distinct approving reviewers are needed.
   */
  required: number;
  /**
   * Who may approve: GitHub user logins, `team:<slug>` for team members, or `codeowners` for the CODEOWNERS of the changed files. Empty or absent means any reviewer with write access.
   *
   * @maxItems 100
   */
  from?: string[];
}
/**
 * Spending limit of one run; the run stops before a task would exceed it.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Budget".
 */
export interface ManifestBudget {
  /**
   * Maximum cost of one run.
   */
  limit: number;
  /**
   * ISO 4217 currency code. Defaults to `USD`.
   */
  currency?: string;
}
/**
 * What starts a run. A manifest without triggers runs only when started by hand.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Triggers".
 */
export interface ManifestTriggers {
  push?: ManifestRefFilter;
  pull_request?: ManifestRefFilter1;
  /**
   * When the long-running process (`maestro app`) starts a run on the default branch's current manifest: one entry or a list, each a cron string (five fields, UTC) or an object with a timezone and a catch-up rule. Exactly one run per workflow and slot.
   */
  schedule?:
    | ManifestScheduleEntry
    | [ManifestScheduleEntry]
    | [ManifestScheduleEntry, ManifestScheduleEntry]
    | [ManifestScheduleEntry, ManifestScheduleEntry, ManifestScheduleEntry]
    | [ManifestScheduleEntry, ManifestScheduleEntry, ManifestScheduleEntry, ManifestScheduleEntry]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ]
    | [
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
        ManifestScheduleEntry,
      ];
  /**
   * Allow starting a run by hand (CLI, API, console).
   */
  manual?: boolean;
}
/**
 * Start on pushes to matching branches.
 */
export interface ManifestRefFilter {
  /**
   * Branch names or glob patterns, in GitHub Actions filter syntax: `*` (not `/`), `**` (anything), `?` and `+` (zero-or-one and one-or-more of the preceding character), `[0-9a-z]`, `\` to escape; a leading `!` excludes, and the last matching pattern decides.
   *
   * @maxItems 100
   */
  branches?: string[];
  /**
   * Changed-path glob patterns (the same syntax as `branches`, matched against the whole repository-relative path); a run starts only when at least one changed path is included.
   *
   * @maxItems 100
   */
  paths?: string[];
}
/**
 * Start on pull requests whose base branch matches.
 */
export interface ManifestRefFilter1 {
  /**
   * Branch names or glob patterns, in GitHub Actions filter syntax: `*` (not `/`), `**` (anything), `?` and `+` (zero-or-one and one-or-more of the preceding character), `[0-9a-z]`, `\` to escape; a leading `!` excludes, and the last matching pattern decides.
   *
   * @maxItems 100
   */
  branches?: string[];
  /**
   * Changed-path glob patterns (the same syntax as `branches`, matched against the whole repository-relative path); a run starts only when at least one changed path is included.
   *
   * @maxItems 100
   */
  paths?: string[];
}
/**
 * A schedule with its time zone and what happens to slots missed while the process was down.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Schedule".
 */
export interface ManifestSchedule {
  cron: ManifestCronExpression1;
  /**
   * IANA time zone the cron fields are read in (default `UTC`); daylight-saving changes follow the zone's rules.
   */
  timezone?: string;
  /**
   * Slots missed while no process was running: `latest` (default) runs the latest missed slot once; `none` skips them; a duration (`6h`, `30m`) runs each missed slot no older than that; `all` runs every missed slot since the last one seen (at most 100, the latest).
   */
  catchUp?: string;
}
/**
 * Values every task gets unless it sets its own.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Defaults".
 */
export interface ManifestDefaults {
  runner?: ManifestRunner;
  resources?: ManifestResources;
  timeout?: ManifestDuration1;
  retry?: ManifestRetry;
  cache?: ManifestCache;
  env?: ManifestEnv;
}
/**
 * Retries of a failed attempt.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Retry".
 */
export interface ManifestRetry {
  /**
   * Retries after the first attempt. Defaults to `0`.
   */
  limit?: number;
  backoff?: ManifestBackoff;
  /**
   * `full` waits a random delay between 0 and the backoff delay (spreads retries of many tasks); `none` waits exactly the delay. Defaults to `full`.
   */
  jitter?: 'full' | 'none';
}
/**
 * Exponential backoff between attempts: `initial × factor^(attempt-1)`, capped at `max`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Backoff".
 */
export interface ManifestBackoff {
  initial?: ManifestDuration2;
  /**
   * Multiplier applied to the delay after each retry. Defaults to `2`.
   */
  factor?: number;
  max?: ManifestDuration3;
  maxDuration?: ManifestDuration4;
}
/**
 * Result caching: a task whose definition digest and resolved inputs match a cached result is not run again.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Cache".
 */
export interface ManifestCache {
  /**
   * Reuse a cached result when one matches. Defaults to `false`.
   */
  enabled?: boolean;
  ttl?: ManifestDuration5;
  /**
   * Never cache this task, even when `defaults.cache` enables caching (for tasks with side effects). Wins over `enabled`.
   */
  never?: boolean;
}
/**
 * Environment variables of the task's process. Values may hold expressions.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Env".
 */
export interface ManifestEnv {
  [k: string]: string | number | boolean;
}
/**
 * Instantiate a blueprint (docs/blueprints.md): its tasks, params, policy and approvals become this workflow's; keys written beside it in `spec` (policy, approvals, triggers, params, …) take precedence. Its version is resolved like a catalog task's and pinned in the plan with its digest.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "BlueprintUse".
 */
export interface ManifestBlueprintUse {
  /**
   * `blueprints/<name>@<range>`: the highest version satisfying the semver range.
   */
  uses: string;
  /**
   * The blueprint's parameters, checked against its JSON Schema. Data only: no `${...}` expressions (MS5004), so no secret can be passed here.
   */
  with?: {};
}
/**
 * One unit of work. It has exactly one of `run`, `uses` or `image`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Task".
 */
export interface ManifestTask {
  id: ManifestIdentifier;
  /**
   * What the task does, for people.
   */
  description?: string;
  /**
   * A command. A string is run by `sh -c`; each `${...}` expression in it reaches the shell as an environment variable (`$MAESTRO_EXPR_<n>`), never as shell code: write `"${params.x}"` to keep it one word. A list is an argv: each element becomes exactly one argument.
   */
  run?: string | [string, ...string[]];
  /**
   * A catalog task, `tasks/<name>@<version range>`: `@1` (any 1.x), `@1.2` (any 1.2.x) or `@1.2.3` (exact); one of the repository's own tasks, `./.maestro/tasks/<name>` (a folder with a task.json, read from the workflow's source); or a task of a shared catalog, `<catalog>/<path>@<range>` (the catalog named in `.maestro/catalogs.yaml`, pinned in `.maestro/tasks.lock` by `maestro tasks lock`).
   */
  uses?: string;
  /**
   * A container image to run (container and kubernetes runners).
   */
  image?: string;
  /**
   * Entrypoint override of `image`, as argv.
   *
   * @maxItems 1024
   */
  command?: string[];
  /**
   * Arguments passed to the image's entrypoint; each element is one argument.
   *
   * @maxItems 1024
   */
  args?: string[];
  /**
   * Inputs of a catalog task (`uses`), checked against the task's input schema. Values may hold expressions.
   */
  with?: {};
  env?: ManifestEnv;
  /**
   * Ids of tasks that must finish first. A need on a matrix task waits for all its expansions. References to another task's outputs add the edge implicitly.
   *
   * @maxItems 1024
   */
  needs?: string[];
  /**
   * A CEL condition evaluated when the task becomes ready; the task is skipped when it is false. Variables: `params`, `tasks` (`tasks.<id>.outputs.<name>`), `matrix`, `run`, `workload`.
   */
  when?: string;
  /**
   * What to do when a dependency was skipped: `skip` (default) skips this task too, `run` runs it anyway.
   */
  ifSkipped?: 'skip' | 'run';
  retry?: ManifestRetry;
  /**
   * Price-aware placement (ADR-051, docs/budgets.md): `deferrable: true` lets the engine start the task later and on a cheaper flavor (spot) when the operator's price table says it is cheaper, as long as it can finish within `deadline` of becoming ready (its `timeout`, or an hour, is the estimate). The wait is a durable timer (reason `waiting_until`); a spot attempt refused or evicted is re-attempted on on-demand, not counted as a failure.
   */
  placement?: {
    /**
     * May the engine delay the task and pick a cheaper flavor.
     */
    deferrable: boolean;
    deadline: ManifestDuration6;
  };
  /**
   * What happens when an attempt is lost to a crash of the engine or worker running it (a `kill -9` of `maestro run`, a worker whose lease expired): `retry` (default) starts a new attempt when the run is resumed, counted apart from `retry.limit` and at most `MAESTRO_REATTEMPTS` (default 3) times per task; `fail` fails the task with reason `interrupted` and skips its dependants, for steps that must never run twice (a person decides, with `maestro runs retry`).
   */
  onInterrupt?: 'retry' | 'fail';
  timeout?: ManifestDuration7;
  cache?: ManifestCache;
  runner?: ManifestRunner1;
  resources?: ManifestResources1;
  /**
   * This step truly needs the host (killing a local process, the Podman socket): it runs only on a local runner the operator granted host access in the runners config (`local: { hostAccess: granted }`), outside the sandbox, in a trusted run, and its log and receipt say so (`isolation.hostAccess: true`). Anywhere else it is refused before it starts (`host_access_not_granted`, not retryable). Runbooks act through interfaces otherwise (docs/runbooks/README.md).
   */
  hostAccess?: true;
  /**
   * Narrows this task's network: `none` runs it with no network at all, even in a trusted run (local: a new, empty network namespace; container: `NetworkMode: none`; Kubernetes: the pod label `maestro.dev/network: none`, which the default-deny NetworkPolicy selects). A task can only narrow: trusted runs have the network by default, untrusted runs (pull requests from forks) never do.
   */
  network?: 'none';
  /**
   * Fan-out: the task runs once per combination of the listed values, with `${matrix.<key>}` set. Expansion ids are `<id>[key=value,...]` (keys sorted).
   */
  matrix?: {
    /**
     * @minItems 1
     * @maxItems 256
     */
    [k: string]: [string | number | boolean, ...(string | number | boolean)[]];
  };
  /**
   * Names of the outputs the task writes (`key=value` lines to `$MAESTRO_OUTPUT`); only these may be referenced by other tasks.
   *
   * @maxItems 256
   */
  outputs?: ManifestIdentifier1[];
  /**
   * Files or folders (relative to the task's workspace) kept when the task ends. They are stored content-addressed, their sha256 digests become the subjects of the attempt's receipt, and every task that `needs` this one receives them, read-only, under `$MAESTRO_ARTIFACTS/<this task's id>/<path>`. A declared path that is missing when the task succeeds fails it. Symlinks and special files are never kept.
   *
   * @minItems 1
   * @maxItems 64
   */
  artifacts?: [string, ...string[]];
}
/**
 * Which refs and paths start a run. Absent lists match everything.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "RefFilter".
 */
export interface ManifestRefFilter2 {
  /**
   * Branch names or glob patterns, in GitHub Actions filter syntax: `*` (not `/`), `**` (anything), `?` and `+` (zero-or-one and one-or-more of the preceding character), `[0-9a-z]`, `\` to escape; a leading `!` excludes, and the last matching pattern decides.
   *
   * @maxItems 100
   */
  branches?: string[];
  /**
   * Changed-path glob patterns (the same syntax as `branches`, matched against the whole repository-relative path); a run starts only when at least one changed path is included.
   *
   * @maxItems 100
   */
  paths?: string[];
}
