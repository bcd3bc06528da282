// Generated from schemas/plan.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "PlanAction".
 */
export type PlanAction =
  | {
      type: 'shell';
      script: string;
    }
  | {
      type: 'argv';
      /**
       * @minItems 1
       */
      argv: [string, ...string[]];
    }
  | {
      type: 'catalog';
      /**
       * As written, e.g. tasks/http@1
       */
      ref: string;
      name: string;
      /**
       * The exact resolved version
       */
      version: string;
      /**
       * sha256 of the task package (its code digest)
       */
      digest: string;
      /**
       * A repository task (`uses: ./.maestro/tasks/<name>`): its entry file, relative to the source root the attempt's workspace holds. A locked catalog task: its entry under `.maestro/catalog-tasks/<catalog>/<path>/`, where the engine places the folder it fetched (and checked against `digest`) in the attempt's workspace
       */
      entry?: string;
      /**
       * A locked catalog task (`uses: <catalog>/<path>@<range>`): where its code is, as `.maestro/tasks.lock` pinned it
       */
      source?: {
        /**
         * The catalog's clone URL (or, from the CLI, a local path)
         */
        url: string;
        commit: string;
        path: string;
      };
      /**
       * A repository task in Python: the interpreter its task.json names (default python3); absent: the engine's Node
       */
      interpreter?: string;
    }
  | {
      type: 'container';
      image: string;
      command?: string[];
      args?: string[];
    };

/**
 * The compiler's output: a canonical, content-addressed description of one workflow. Its digest is the sha256 of the RFC 8785 canonical JSON of the plan without the `digest` field. Tasks are in deterministic topological order (ties broken by declaration order).
 */
export interface Plan {
  apiVersion: 'maestro/v1';
  kind: 'Plan';
  digest: string;
  workflow: {
    kind: 'Workflow' | 'Runbook';
    name: string;
    namespace: string;
    labels: {
      [k: string]: string;
    };
  };
  params: {
    [k: string]: PlanParam;
  };
  policy?: PolicyContext;
  approvals?: {
    required: number;
    from: string[];
  };
  /**
   * The blueprint the workflow was instantiated from (`spec.blueprint`), pinned: exact version and the digest of its folder.
   */
  blueprint?: {
    uses: string;
    name: string;
    version: string;
    digest: string;
  };
  budget?: {
    limit: number;
    currency: string;
  };
  triggers: {
    push?: RefFilter;
    pull_request?: RefFilter;
    schedule?: PlanSchedule[];
    manual?: boolean;
  };
  /**
   * Whole-run timeout.
   */
  timeoutMs?: number;
  /**
   * Digest of the policy bundle the plan was compiled against (`maestro policy build` reports it): sha256 over the canonical JSON of the bundle's wasm digest and data.
   */
  policyBundleDigest?: string;
  tasks: PlanTask[];
  edges: {
    from: string;
    to: string;
  }[];
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "PlanParam".
 */
export interface PlanParam {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  required: boolean;
  default?: unknown;
  description?: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "PolicyContext".
 */
export interface PolicyContext {
  purpose?: string;
  authority?: string;
  license?: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "RefFilter".
 */
export interface RefFilter {
  branches?: string[];
  paths?: string[];
}
/**
 * A normalised schedule entry: the cron fields with whitespace collapsed, the IANA time zone (`UTC` when none was given), and the catch-up rule.
 *
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "PlanSchedule".
 */
export interface PlanSchedule {
  cron: string;
  timezone: string;
  catchUp:
    | ('latest' | 'none' | 'all')
    | {
        withinMs: number;
      };
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "PlanTask".
 */
export interface PlanTask {
  /**
   * Unique in the plan. A matrix expansion is `<declaredId>[k=v,...]`.
   */
  id: string;
  /**
   * The id as written in the manifest.
   */
  declaredId: string;
  /**
   * This expansion's matrix values.
   */
  matrix?: {};
  action: PlanAction;
  with: {
    [k: string]: Template;
  };
  env: {
    [k: string]: string;
  };
  /**
   * Plan task ids this task waits for: from `needs` and from output references; a need on a matrix task means all its expansions (fan-in).
   */
  needs: string[];
  /**
   * CEL condition evaluated when the task becomes ready.
   */
  when?: string;
  /**
   * Run even when a dependency was skipped (skip does not propagate to this task).
   */
  runIfSkipped?: boolean;
  retry: RetryPolicy;
  timeoutMs?: number;
  cache: {
    enabled: boolean;
    ttlMs?: number;
  };
  runner: string;
  resources: string;
  /**
   * Present when the manifest task says `hostAccess: true`: only a runner the operator granted host access may start it.
   */
  hostAccess?: true;
  /**
   * Present when the manifest task says `network: none`; absent, the run's trust decides.
   */
  network?: 'none';
  /**
   * Present when the manifest task says `placement: { deferrable: true, deadline }`: the engine may start it later and on a cheaper flavor, finishing within deadlineMs of becoming ready (engine/placement/).
   */
  placement?: {
    deadlineMs: number;
    deferrable: true;
  };
  /**
   * Present when the manifest task says `onInterrupt: fail`: an attempt lost to an engine or worker crash fails the task with reason `interrupted` instead of being re-attempted.
   */
  onInterrupt?: 'fail';
  outputs: string[];
  /**
   * Workspace-relative paths kept as the task's artifacts (trailing `/` removed).
   */
  artifacts?: string[];
  /**
   * Names of the secrets this task's templates reference.
   */
  secrets: string[];
  /**
   * sha256 of this task's canonical definition (before expression resolution).
   */
  definitionDigest: string;
}
/**
 * A JSON value whose strings may hold `${...}` expressions, resolved at dispatch time. Expressions are data: they never become shell code.
 *
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "Template".
 */
export interface Template {
  [k: string]: unknown;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "RetryPolicy".
 */
export interface RetryPolicy {
  /**
   * Number of retries after the first attempt.
   */
  limit: number;
  backoff: {
    initialMs: number;
    factor: number;
    maxMs: number;
    maxDurationMs?: number;
  };
  jitter: 'full' | 'none';
}
