import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { resolveUses, withValidator } from '../resolve-catalog.ts';
import { repositoryTaskPrefix, resolveRepositoryUses } from '../resolve-repository.ts';
import { isLockedUses, resolveLockedUses } from '../resolve-locked.ts';
import { isRecord, taskPointer, type AnalysisState, type Rec } from './state.ts';

const catalogUses = /^tasks\/.+@.+$/;

/**
 * `uses`: catalog references (semver ranges), a repository's own `./.maestro/tasks/<name>` and a
 * shared catalog's `<catalog>/<path>@<range>` (from `.maestro/tasks.lock`),
 * resolved to their entry; `with` checked against the entry's input schema. The entry's outputs
 * join the task's declared ones.
 */
export function resolveTaskUses(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  const checkWith = withValidator();
  for (const model of state.models) {
    const raw = model.task as unknown as Rec;
    const uses = raw.uses;
    if (typeof uses === 'string') {
      const repositoryTask = uses.startsWith(repositoryTaskPrefix);
      const lockedTask = !repositoryTask && isLockedUses(uses);
      if (!repositoryTask && !lockedTask && !catalogUses.test(uses)) continue;
      const pointer = taskPointer(model, 'uses');
      const resolved = repositoryTask
        ? resolveRepositoryUses(uses, state.catalog, pointer)
        : lockedTask
          ? resolveLockedUses(uses, state.catalog, pointer)
          : resolveUses(uses, state.catalog, pointer);
      if ('finding' in resolved) {
        findings.push(resolved.finding);
        continue;
      }
      model.entry = resolved.entry;
      for (const o of resolved.entry.outputs) if (!model.outputs.includes(o)) model.outputs.push(o);
      findings.push(
        ...checkWith(resolved.entry, isRecord(raw.with) ? raw.with : {}, taskPointer(model, 'with')),
      );
    } else if (raw.with !== undefined && uses === undefined)
      findings.push({
        code: Code.withWithoutUses,
        severity: 'warning',
        message: '`with` is ignored: the task does not `uses` a catalog task',
        hint: 'pass values to `run` tasks through `env`',
        pointer: taskPointer(model, 'with'),
        onKey: true,
      });
  }
  return findings;
}
