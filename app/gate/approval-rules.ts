import type { Plan } from '../../core/index.ts';
import { plansByWorkflow, type CompiledManifest } from '../source/compile-snapshot.ts';
import type { RepositorySnapshot } from '../source/read-repository.ts';

/** The approval a plan needs: from its manifest, or from policy marking it sensitive. */
export type ApprovalRequirement = { required: number; from: string[] };
export type SensitivityCheck = (plan: Plan) => ApprovalRequirement | undefined;

export function requirementOf(plan: Plan, sensitive: SensitivityCheck): ApprovalRequirement | undefined {
  return plan.approvals ?? sensitive(plan);
}

/** Runners that reach more than the task's own sandbox (a cluster, a container engine, a cloud). */
const PRIVILEGED_RUNNERS = new Set(['container', 'kubernetes', 'serverless']);

/** A plan that would hold the trusted secrets or a privileged runner when it runs. */
export function usesSecretsOrPrivileged(plan: Plan): boolean {
  return plan.tasks.some((task) => task.secrets.length > 0 || PRIVILEGED_RUNNERS.has(task.runner));
}

/** Why a requirement applies, shown on the approval check run. */
export type RuleSource = 'base' | 'head' | 'default' | 'change-control';

/**
 * One requirement a workflow's run must meet. `from` entries are logins, `team:` entries and
 * `codeowners`, which always means the CODEOWNERS of the BASE commit applied to `file`.
 */
export interface GateRule extends ApprovalRequirement {
  source: RuleSource;
  file: string;
  /** change-control: reviews must be on the head commit itself (they approve the change, not a plan). */
  exactHead?: boolean;
  /** change-control: the paths whose change brought this rule. */
  paths?: string[];
}

export interface RuleInputs {
  base: { snapshot: RepositorySnapshot; compiled: readonly CompiledManifest[] } | undefined;
  head: { snapshot: RepositorySnapshot; compiled: readonly CompiledManifest[] };
  sensitive: SensitivityCheck;
  /** Approvals a head-only workflow with secrets or privileged runners needs (from any writer). */
  defaultRequired: number;
  /** CODEOWNERS owners of a path at the base commit. */
  baseOwnersOf: (path: string) => string[];
}

/**
 * The rules that gate each workflow at the head, read from the base: the base's own requirement
 * for the workflow, the head's where it declares one (both must be met), the default
 * requirement for a workflow that only the head has and that would get secrets or a privileged
 * runner, and, for every workflow, a change-control rule when the pull request changes what the
 * gate itself is made of (a manifest's approvals, CODEOWNERS, the policy). A head can add
 * requirements, never remove the base's.
 */
export function rulesByWorkflow(inputs: RuleInputs): Map<string, GateRule[]> {
  const basePlans = inputs.base ? plansByWorkflow(inputs.base.compiled) : new Map<string, never>();
  const control = changeControlRules(inputs);
  const rules = new Map<string, GateRule[]>();
  for (const [workflow, { file, plan }] of plansByWorkflow(inputs.head.compiled)) {
    const list: GateRule[] = [];
    const base = basePlans.get(workflow);
    const baseRequirement = base ? requirementOf(base.plan, inputs.sensitive) : undefined;
    if (base && baseRequirement) list.push({ ...baseRequirement, source: 'base', file: base.file });
    const headRequirement = requirementOf(plan, inputs.sensitive);
    if (headRequirement) list.push({ ...headRequirement, source: 'head', file });
    if (!base && usesSecretsOrPrivileged(plan) && inputs.defaultRequired > 0)
      list.push({ required: inputs.defaultRequired, from: [], source: 'default', file });
    list.push(...control);
    if (list.length > 0) rules.set(workflow, list);
  }
  return rules;
}

/** The paths whose change gates the whole pull request, grouped by their base code owners. */
function changeControlRules(inputs: RuleInputs): GateRule[] {
  const paths = changedControlPaths(inputs);
  const byOwners = new Map<string, string[]>();
  for (const path of paths) {
    const owners = inputs.baseOwnersOf(path).join(' ');
    byOwners.set(owners, [...(byOwners.get(owners) ?? []), path]);
  }
  return [...byOwners].map(([owners, grouped]) => ({
    required: owners === '' ? Math.max(1, inputs.defaultRequired) : 1,
    from: owners === '' ? [] : owners.split(' '),
    source: 'change-control' as const,
    file: grouped[0]!,
    paths: grouped,
    exactHead: true,
  }));
}

/**
 * Manifests whose base `approvals` the head changes or drops (a new manifest adds rules of its
 * own, it cannot weaken the base's), CODEOWNERS, and policy files that changed.
 */
export function changedControlPaths(inputs: Pick<RuleInputs, 'base' | 'head'>): string[] {
  const base = inputs.base;
  const head = inputs.head;
  const changed = new Set<string>();
  const approvalsAt = (compiled: readonly CompiledManifest[] | undefined) =>
    new Map((compiled ?? []).map((c) => [c.file, JSON.stringify(c.plan?.approvals ?? null)]));
  const baseApprovals = approvalsAt(base?.compiled);
  const headApprovals = approvalsAt(head.compiled);
  for (const [file, approvals] of baseApprovals)
    if (approvals !== 'null' && approvals !== (headApprovals.get(file) ?? 'null')) changed.add(file);
  const baseOwners = base?.snapshot.codeowners;
  const headOwners = head.snapshot.codeowners;
  if (baseOwners?.path !== headOwners?.path || baseOwners?.sha !== headOwners?.sha)
    for (const path of [baseOwners?.path, headOwners?.path]) if (path) changed.add(path);
  const policy = (s: RepositorySnapshot | undefined) =>
    new Map((s?.policyFiles ?? []).map((f) => [f.path, f.sha]));
  const basePolicy = policy(base?.snapshot);
  const headPolicy = policy(head.snapshot);
  for (const path of new Set([...basePolicy.keys(), ...headPolicy.keys()]))
    if (basePolicy.get(path) !== headPolicy.get(path)) changed.add(path);
  return [...changed].sort();
}
