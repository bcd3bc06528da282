import { checkReference, referenceFinding } from '../check-references.ts';
import { Code } from '../codes.ts';
import { conditionChecker } from '../condition.ts';
import type { ConditionCheck } from '../condition.ts';
import type { Finding } from '../finding.ts';
import { taskContext, taskPointer, type AnalysisState } from './state.ts';

/**
 * `when`: a CEL boolean over typed params and task outputs, parsed and type-checked once per
 * distinct text; its references (no secrets: conditions are logged) become dependencies.
 */
export function checkConditions(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  let checkCondition: ((cel: string) => ConditionCheck) | undefined;
  const cache = new Map<string, ConditionCheck>();
  for (const model of state.models) {
    const when = (model.task as { when?: unknown }).when;
    if (typeof when !== 'string') continue;
    checkCondition ??= conditionChecker(state.paramTypes);
    let check = cache.get(when);
    if (!check) cache.set(when, (check = checkCondition(when)));
    const pointer = () => taskPointer(model, 'when'); // only a finding needs it
    const context = taskContext(state, model, false);
    let refProblem = false;
    check.refs.forEach((ref, k) => {
      const result = checkReference(ref.path, context);
      if ('problem' in result) {
        refProblem = true;
        findings.push(referenceFinding(result, conditionPlace(when, check.refs, k, pointer())));
      } else if (result.dependsOn !== undefined) model.deps.push(state.byId.get(result.dependsOn) as number);
    });
    if (check.error && (check.error.kind === 'syntax' || !refProblem))
      findings.push({
        code: check.error.kind === 'syntax' ? Code.celSyntax : Code.celType,
        severity: 'error',
        message: `invalid condition: ${check.error.message}`,
        hint: 'a `when` is a CEL boolean expression, e.g. tasks.test.outputs.passed == true',
        pointer: pointer(),
      });
  }
  return findings;
}

/** Place of the k-th reference of a condition: its text and which occurrence of that text. */
export function conditionPlace(
  when: string,
  refs: ConditionCheck['refs'],
  k: number,
  pointer: string,
): Pick<Finding, 'pointer' | 'span'> {
  const ref = refs[k] as ConditionCheck['refs'][number];
  const text = when.slice(ref.start, ref.end);
  const occurrence = refs.slice(0, k).filter((r) => when.slice(r.start, r.end) === text).length;
  return { pointer, span: { text, occurrence } };
}
