import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { Limits } from '../limits.ts';
import { isRecord, taskPointer, type AnalysisState } from './state.ts';

/** A matrix may expand to at most `Limits.maxMatrixExpansions` tasks. */
export function checkMatrices(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  for (const model of state.models) {
    if (model.matrixKeys.length === 0) continue;
    const matrix = (model.task as { matrix?: unknown }).matrix;
    if (!isRecord(matrix)) continue;
    let count = 1;
    for (const values of Object.values(matrix)) count *= Array.isArray(values) ? values.length : 1;
    if (count > Limits.maxMatrixExpansions)
      findings.push({
        code: Code.matrixTooLarge,
        severity: 'error',
        message: `the matrix expands to ${count} tasks; the limit is ${Limits.maxMatrixExpansions}`,
        pointer: taskPointer(model, 'matrix'),
        onKey: true,
      });
  }
  return findings;
}
