import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { pointerOf } from '../finding.ts';
import { isRecord, type AnalysisState } from './state.ts';

/** Records each param's type; a `default` must be of it. */
export function checkParams(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  for (const [name, param] of Object.entries(state.params))
    if (isRecord(param) && typeof param.type === 'string') {
      state.paramTypes[name] = param.type;
      if ('default' in param && !matchesType(param.default, param.type))
        findings.push({
          code: Code.paramDefault,
          severity: 'error',
          message: `the default of \`${name}\` is not of type ${param.type}`,
          pointer: pointerOf('spec', 'params', name, 'default'),
        });
    }
  return findings;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return true;
  }
}
