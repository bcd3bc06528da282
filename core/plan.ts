export type {
  Plan,
  PlanTask,
  PlanAction,
  PlanParam,
  PolicyContext,
  RetryPolicy,
  RefFilter,
} from './generated/plan.ts';
