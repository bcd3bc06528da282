/**
 * The planner's canonical JSON: core's `canonicalJson` (RFC 8785, JSON.stringify when every
 * object already enumerates its keys in canonical order, as the planner builds them), plus the
 * two questions the planner asks once per plan rather than per object.
 */
import { canonicalNodes, inCanonicalOrder } from '../core/index.ts';

/** Canonical JSON of a value whose objects were built in key order when `ordered` (userDataInOrder). */
export function canonicalText(value: unknown, ordered: boolean): string {
  return ordered ? JSON.stringify(value) : canonicalNodes(value);
}

/** True when every object of user data (`with`, `env`, labels, defaults) enumerates keys in canonical order. */
export function userDataInOrder(value: unknown): boolean {
  return value === undefined || inCanonicalOrder(value);
}
