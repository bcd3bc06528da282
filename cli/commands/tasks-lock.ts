import type { Command } from 'commander';
import { resolve } from 'node:path';
import { InputError } from '../../core/index.ts';
import { catalogCredentialFor, lockTasks, sourceRootOfDir } from '../../workspace/index.ts';
import { resolveDataDir } from '../config.ts';
import type { CliContext } from '../context.ts';
import { baseEnvOf } from '../manifest-files.ts';

const EXAMPLES = `
Examples:
  $ maestro tasks lock                      # this repository's .maestro/catalogs.yaml -> .maestro/tasks.lock
  $ maestro tasks lock --source ../pipelines
  $ maestro tasks lock --check              # in CI: fail when the committed lock is stale

Every \`uses: <catalog>/<path>@<range>\` of the repository's workflows is resolved at the ref
.maestro/catalogs.yaml names, to an exact commit and a digest of the task's folder, with its
input and output spec. Commit the lock: compiling reads it alone, and a run fetches exactly the
locked commit and checks the digest again. Re-run after changing a ref or adding a uses:.

A private catalog over https: MAESTRO_CATALOG_TOKEN_<host> (the host with . as _ and - as __,
e.g. MAESTRO_CATALOG_TOKEN_git_example_com; the user MAESTRO_CATALOG_USER_<host>, default
x-access-token), else your git credential helper. Sent to that host only, never stored.`;

/** `maestro tasks lock`: the only command that reads a catalog's ref. */
export function registerTasksLock(tasks: Command, context: CliContext): void {
  tasks
    .command('lock')
    .description('Pin every catalog task the workflows use (commit, digest, spec) into .maestro/tasks.lock')
    .option('--source <dir>', 'the repository whose .maestro/catalogs.yaml to lock')
    .option('--data-dir <dir>', 'where catalog mirrors are kept (default: the data dir)')
    .option(
      '--check',
      'write nothing; fail when .maestro/tasks.lock differs from what locking now would write',
    )
    .addHelpText('after', EXAMPLES)
    .action(async (options: { source?: string; dataDir?: string; check?: boolean }) => {
      const baseEnv = baseEnvOf(context.io);
      const root =
        options.source === undefined
          ? await sourceRootOfDir(context.io.cwd, baseEnv)
          : resolve(context.io.cwd, options.source);
      const dataDir = resolveDataDir(options.dataDir, context.io);
      const result = await lockTasks({
        root,
        dataDir,
        baseEnv,
        check: options.check === true,
        credentials: (url) => catalogCredentialFor(url, { env: context.io.env, baseEnv }),
      });
      for (const line of result.lines) context.io.stdout(`${line}\n`);
      if (options.check) {
        if (!result.upToDate)
          throw new InputError(
            'tasks_lock_stale',
            `${result.file} is missing or stale: locking now would change it`,
            {
              hint: 'run maestro tasks lock and commit .maestro/tasks.lock',
            },
          );
        context.io.stdout(`${result.file} is up to date\n`);
        return;
      }
      context.io.stdout(
        `wrote ${result.file} (${result.lines.length} task${result.lines.length === 1 ? '' : 's'})\n`,
      );
    });
}
