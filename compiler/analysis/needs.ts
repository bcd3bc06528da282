import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { taskPointer, type AnalysisState } from './state.ts';

/** `needs`: each entry names another declared task, once; they become dependencies. */
export function checkNeeds(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  for (const model of state.models) {
    const list = (model.task as { needs?: unknown }).needs;
    if (!Array.isArray(list)) continue;
    // Short lists (the usual case) are searched, not hashed: no Set per task.
    const listed = list.length > 16 ? new Set<string>() : undefined;
    for (let j = 0; j < list.length; j++) {
      const need: unknown = list[j];
      if (typeof need !== 'string') continue;
      if (listed ? listed.has(need) : j > 0 && list.lastIndexOf(need, j - 1) !== -1) {
        findings.push({
          code: Code.duplicateNeed,
          severity: 'warning',
          message: `\`${need}\` is listed twice`,
          pointer: taskPointer(model, 'needs', j),
        });
        continue;
      }
      listed?.add(need);
      if (need === model.id) {
        findings.push({
          code: Code.selfDependency,
          severity: 'error',
          message: `task \`${need}\` needs itself`,
          hint: 'remove it from `needs`',
          pointer: taskPointer(model, 'needs', j),
        });
        continue;
      }
      const d = state.byId.get(need);
      if (d === undefined) {
        findings.push({
          code: Code.unknownNeed,
          severity: 'error',
          message: `\`needs\` names an unknown task \`${need}\``,
          ...closestHint(need, state.byId.keys()),
          pointer: taskPointer(model, 'needs', j),
        });
        continue;
      }
      model.deps.push(d);
    }
  }
  return findings;
}

function closestHint(name: string, ids: Iterable<string>): { hint: string } | undefined {
  let best: string | undefined;
  const lower = name.toLowerCase();
  for (const id of ids) if (id.toLowerCase() === lower) best = id;
  return best ? { hint: `did you mean \`${best}\`?` } : undefined;
}
