import { UsageError } from '../core/index.ts';
import type { Plan } from '../core/index.ts';
import type { CompileFn } from '../workspace/index.ts';
import { findManifests, sourceCompiler, validateManifests } from '../workspace/index.ts';
import type { CliIo } from './io.ts';
import { renderTextReport } from './format/render-text.ts';
import { baseEnvOf, wantsColor } from './manifest-files.ts';

/**
 * For commands that take exactly one manifest (`compile`, `graph`): returns its Plan, or writes
 * the diagnostics to stderr exactly as `validate` renders them and returns undefined.
 */
export async function compileOne(
  file: string,
  io: CliIo,
  compile?: CompileFn,
  options: { source?: string; noRepository?: boolean } = {},
): Promise<Plan | undefined> {
  const files = findManifests([file], { cwd: io.cwd });
  if (files.length !== 1)
    throw new UsageError(`${file} holds ${files.length} manifests; pass one manifest file`, {
      hint: `list them with: maestro validate ${file}`,
    });
  const [report] = validateManifests(
    files,
    compile ?? (await sourceCompiler(files, { cwd: io.cwd, baseEnv: baseEnvOf(io), ...options })),
  );
  if (!report) return undefined;
  const warningsOnly = report.valid && report.diagnostics.length > 0;
  if (!report.valid || warningsOnly) io.stderr(renderTextReport([report], { color: wantsColor(io) }));
  return report.valid ? report.plan : undefined;
}
