import type { CompileFn, ManifestReport } from '../workspace/index.ts';
import { builtinCompiler, findManifests, validateManifests } from '../workspace/index.ts';
import type { CliIo } from './io.ts';

/**
 * The CLI's glue to workspace/: expand arguments into manifest files (relative to the current
 * directory) and compile each with the built-in catalog. `compile` is injectable for tests.
 */
export async function checkManifests(
  paths: readonly string[],
  io: CliIo,
  compile?: CompileFn,
): Promise<ManifestReport[]> {
  const files = findManifests(paths, { cwd: io.cwd });
  return validateManifests(files, compile ?? (await builtinCompiler()));
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(io: CliIo): boolean {
  return io.isTty && !io.env['NO_COLOR'];
}
