import type { CompileFn, ManifestReport } from '../workspace/index.ts';
import type { GitBaseEnv } from '../workspace/index.ts';
import { findManifests, sourceCompiler, validateManifests } from '../workspace/index.ts';
import type { CliIo } from './io.ts';

/**
 * The CLI's glue to workspace/: expand arguments into manifest files (relative to the current
 * directory) and compile each with the built-in catalog and its repository's own tasks. `compile` is injectable for tests.
 */
export async function checkManifests(
  paths: readonly string[],
  io: CliIo,
  compile?: CompileFn,
): Promise<ManifestReport[]> {
  const files = findManifests(paths, { cwd: io.cwd });
  return validateManifests(
    files,
    compile ?? (await sourceCompiler(files, { cwd: io.cwd, baseEnv: baseEnvOf(io) })),
  );
}

/** PATH and HOME for git (finding a manifest's repository), from the CLI's environment. */
export function baseEnvOf(io: CliIo): GitBaseEnv {
  return { PATH: io.env.PATH, HOME: io.env.HOME };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(io: CliIo): boolean {
  return io.isTty && !io.env['NO_COLOR'];
}
