import type { Diagnostic, Plan } from '../../core/index.ts';
import { hasErrors } from '../../core/index.ts';
import type { Lru } from './lru.ts';
import type { RepositorySnapshot } from './read-repository.ts';
import type { TaskSources } from './task-sources.ts';

/**
 * The compiler as the app uses it (compiler/index.ts `compileManifest`, bound to the built-in
 * catalog); `sources`: the commit's own tasks and shared catalogs, beside that catalog.
 */
export type CompileFn = (
  source: Uint8Array,
  file: string,
  sources?: TaskSources,
) => { plan?: Plan; diagnostics: Diagnostic[] };

export interface CompiledManifest {
  file: string;
  plan?: Plan;
  diagnostics: Diagnostic[];
}

/**
 * Compiles every manifest of a snapshot; a throwing compiler becomes a diagnostic, not a crash.
 * The compiler is pure, so results are cached by path and blob SHA (the same file at the same
 * path compiles to the same plan on every branch and push).
 */
export function compileSnapshot(
  snapshot: RepositorySnapshot,
  compile: CompileFn,
  cache?: Lru<CompiledManifest>,
): CompiledManifest[] {
  return snapshot.manifests.map((file) => {
    // The same file compiles to another plan when the repository's tasks or lock change.
    const key = `${file.path}\0${file.sha}\0${snapshot.taskSources?.key ?? ''}`;
    const cached = cache?.get(key);
    if (cached) return cached;
    const compiled = compileOne(file, (source, path) => compile(source, path, snapshot.taskSources));
    cache?.set(key, compiled);
    return compiled;
  });
}

function compileOne(file: { path: string; content: string }, compile: CompileFn): CompiledManifest {
  try {
    const outcome = compile(Buffer.from(file.content, 'utf8'), file.path);
    const diagnostics = outcome.diagnostics.map((d) => ({ ...d, file: d.file ?? file.path }));
    return hasErrors(diagnostics) || !outcome.plan
      ? { file: file.path, diagnostics }
      : { file: file.path, plan: outcome.plan, diagnostics };
  } catch (error) {
    return {
      file: file.path,
      diagnostics: [
        {
          code: 'MS9002',
          severity: 'error',
          message: `the compiler failed on this file: ${(error as Error).message}`,
          pointer: '',
          file: file.path,
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 1,
        },
      ],
    };
  }
}

/** Plans by workflow name (the last file wins if two declare one name; validation flags that). */
export function plansByWorkflow(
  compiled: readonly CompiledManifest[],
): Map<string, { file: string; plan: Plan }> {
  const plans = new Map<string, { file: string; plan: Plan }>();
  for (const entry of compiled)
    if (entry.plan) plans.set(workflowKey(entry.plan), { file: entry.file, plan: entry.plan });
  return plans;
}

export function workflowKey(plan: Plan): string {
  return `${plan.workflow.namespace}/${plan.workflow.name}`;
}

/** Plan digests by workflow key (what the store records per commit). */
export function digestsOf(compiled: readonly CompiledManifest[]): Record<string, string> {
  return Object.fromEntries([...plansByWorkflow(compiled)].map(([key, { plan }]) => [key, plan.digest]));
}
