import type { Plan } from '../../core/index.ts';
import type { SensitivityCheck } from './approval-gate.ts';

interface SensitiveConfig {
  sensitive_tasks?: unknown;
  sensitive_namespaces?: unknown;
  sensitive_labels?: unknown;
}

function strings(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
}

/**
 * "Policy marks it sensitive", from the same configuration the policy rules read
 * (`data.maestro.config` of the policy bundle): a plan is sensitive when a task uses a catalog
 * task in `sensitive_tasks`, its namespace is in `sensitive_namespaces`, or one of its labels
 * (`key=value`) is in `sensitive_labels`. A sensitive plan without declared approvals needs one
 * approving review from a collaborator with write access.
 */
export function policySensitivity(bundleData: Record<string, unknown>): SensitivityCheck {
  const config = ((bundleData.maestro as { config?: SensitiveConfig } | undefined)?.config ??
    {}) as SensitiveConfig;
  const tasks = strings(config.sensitive_tasks);
  const namespaces = strings(config.sensitive_namespaces);
  const labels = strings(config.sensitive_labels);
  return (plan: Plan) => {
    const sensitive =
      namespaces.has(plan.workflow.namespace) ||
      Object.entries(plan.workflow.labels).some(([key, value]) => labels.has(`${key}=${value}`)) ||
      plan.tasks.some((task) => task.action.type === 'catalog' && tasks.has(task.action.name));
    return sensitive ? { required: 1, from: [] } : undefined;
  };
}
