/**
 * `--runner <kind>`: the plan rewrite that sends every task to one runner, and the check that the
 * kind is configured. The runners themselves are built by runtime/ (the runners file, detected
 * sockets, RUNNER_FACTORIES).
 */
import { digestOf, UsageError, type Plan } from '../core/index.ts';
import { RUNNER_FACTORIES } from '../runners/index.ts';

/**
 * `--runner <kind>`: every task runs on that runner, so the same manifest runs in containers or on
 * Kubernetes without change. The result is a different plan, so it gets its own digests (each
 * changed task's definitionDigest, which the cache key uses, and the plan digest): receipts then
 * describe what actually ran. The compiled plan's digest is kept in the workflow label
 * `maestro.dev/source-plan-digest` so the run can still be traced to the manifest's plan.
 */
export function withRunner(plan: Plan, kind: string): Plan {
  const tasks = plan.tasks.map((task) => {
    if (task.runner === kind) return task;
    const { definitionDigest: _stale, ...rest } = task;
    const changed = { ...rest, runner: kind };
    return { ...changed, definitionDigest: digestOf(changed) };
  });
  const { digest: source, ...rest } = plan;
  const body = {
    ...rest,
    workflow: {
      ...plan.workflow,
      labels: { ...plan.workflow.labels, 'maestro.dev/source-plan-digest': source },
    },
    tasks,
  };
  return { ...body, digest: digestOf(body) };
}

/** Checks `--runner` names a kind this engine has. */
export function checkRunnerKind(kind: string, registered: readonly string[]): void {
  const kinds = Object.keys(RUNNER_FACTORIES);
  if (!kinds.includes(kind)) throw new UsageError(`--runner must be one of ${kinds.join(', ')}, got ${kind}`);
  if (!registered.includes(kind))
    throw new UsageError(
      `--runner ${kind}: no ${kind} runner is configured (configured: ${registered.join(', ')})`,
      {
        hint:
          kind === 'container'
            ? 'start a Docker Engine API socket (Docker, or `podman system service`) and set DOCKER_HOST, or add a `container` section to the runners config (--runners <file> or MAESTRO_RUNNERS_CONFIG)'
            : `add a \`${kind}\` section to the runners config (--runners <file> or MAESTRO_RUNNERS_CONFIG)`,
      },
    );
}
