import { sourceCompiler, type CompileFn, type ManifestFile } from '../workspace/index.ts';
import { embeddedCatalog } from './embedded-catalog.ts';
import type { ActionEnvironment } from './environment.ts';

/**
 * The compiler for these manifests, as `maestro validate` builds it in the same checkout: the
 * embedded built-in catalog plus each manifest's repository tasks (`.maestro/tasks/*`) and
 * locked catalog tasks (`.maestro/catalogs.yaml` + `.maestro/tasks.lock`), read from the
 * repository holding it. Nothing is fetched: `with:` is checked against the lock alone, and a
 * missing or stale lock is a diagnostic at the `uses:` line.
 */
export function actionCompiler(files: readonly ManifestFile[], env: ActionEnvironment): Promise<CompileFn> {
  return sourceCompiler(files, {
    catalog: embeddedCatalog(),
    cwd: env.cwd,
    baseEnv: { PATH: env.env['PATH'], HOME: env.env['HOME'] },
  });
}
