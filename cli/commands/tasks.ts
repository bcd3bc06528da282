import type { Command } from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { dump } from 'js-yaml';
import semver from 'semver';
import type { CatalogEntry, RepositoryTasks } from '../../core/index.ts';
import {
  builtinCatalog,
  loadLockedCatalogs,
  loadRepositoryTasks,
  sourceRootOfDir,
} from '../../workspace/index.ts';
import type { CliContext } from '../context.ts';
import { baseEnvOf } from '../manifest-files.ts';
import { exampleWith, findTask, inputRows, listTasks } from '../task-listing.ts';
import { registerTasksLock } from './tasks-lock.ts';
import { registerTasksTest } from './tasks-test.ts';

const EXAMPLES = `
Examples:
  $ maestro tasks list                        # built-in tasks and this repository's .maestro/tasks/
  $ maestro tasks list --format json
  $ maestro tasks show http@1                 # its inputs and outputs with types, an example
  $ maestro tasks show ./.maestro/tasks/release-notes --source ../other-repo
  $ maestro tasks show acme/slack-post@1        # a task .maestro/tasks.lock pins
  $ maestro tasks lock                        # pin every catalog uses: into .maestro/tasks.lock
  $ maestro tasks test .maestro/tasks/release-notes   # run its examples/*.json through the harness

The repository is the git repository holding the current directory (as \`maestro run\` finds a
manifest's), else the current directory; --source <dir> names another.`;

interface SourceOptions {
  source?: string;
  format: 'text' | 'json';
}

export function registerTasks(program: Command, context: CliContext): void {
  const tasks = program
    .command('tasks')
    .description(
      "List, describe, lock and test the tasks a workflow can use: built-in, the repository's own, shared catalogs",
    );
  const source = () => new Option('--source <dir>', 'the repository whose .maestro/tasks/ to read');
  const format = () =>
    new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
  tasks
    .command('list')
    .description('Every task: name, versions, summary, support tier')
    .addOption(source())
    .addOption(format())
    .addHelpText('after', EXAMPLES)
    .action(async (options: SourceOptions) => {
      const { catalog, repository, locked } = await load(context, options);
      const listed = listTasks(catalog, repository, locked);
      if (options.format === 'json') context.io.stdout(JSON.stringify({ tasks: listed }, null, 2) + '\n');
      else
        context.io.stdout(
          table([
            ['USES', 'VERSIONS', 'SUPPORT', 'SUMMARY'],
            ...listed.map((t) => [
              t.uses,
              t.versions.join(', ') || '-',
              t.support,
              t.problem ? `INVALID: ${t.problem}` : t.summary,
            ]),
          ]),
        );
    });
  tasks
    .command('show')
    .description('One task: its spec, inputs and outputs with types, and an example')
    .argument('<name>', 'http, http@1, tasks/http@1.2 or ./.maestro/tasks/<name>')
    .addOption(source())
    .addOption(format())
    .addHelpText('after', EXAMPLES)
    .action(async (ref: string, options: SourceOptions) => {
      const { catalog, repository, locked } = await load(context, options);
      const entry = findTask(ref, catalog, repository, locked);
      context.io.stdout(
        options.format === 'json' ? JSON.stringify(describe(entry), null, 2) + '\n' : showText(entry),
      );
    });
  registerTasksLock(tasks, context);
  registerTasksTest(tasks, context);
}

async function load(context: CliContext, options: SourceOptions) {
  const root =
    options.source === undefined
      ? await sourceRootOfDir(context.io.cwd, baseEnvOf(context.io))
      : resolve(context.io.cwd, options.source);
  const repository: RepositoryTasks = await loadRepositoryTasks(root);
  const locked = await loadLockedCatalogs(root, { allowLocal: true });
  return { catalog: await builtinCatalog(), repository, locked };
}

function usesOf(entry: CatalogEntry): string {
  if (entry.name.startsWith('./')) return entry.name;
  return `${entry.source ? '' : 'tasks/'}${entry.name}@${semver.major(entry.version)}`;
}

export function describe(entry: CatalogEntry) {
  return {
    name: entry.name,
    uses: usesOf(entry),
    version: entry.version,
    summary: entry.description,
    support:
      entry.support ?? (entry.name.startsWith('./') ? 'repository' : entry.source ? 'catalog' : 'core'),
    digest: entry.digest,
    ...(entry.source ? { locked: entry.source } : {}),
    inputs: inputRows(entry),
    outputs: entry.outputs,
    spec: { inputs: entry.inputs, outputs: entry.outputs },
    example: { id: 'step', uses: usesOf(entry), with: exampleWith(entry) },
  };
}

function showText(entry: CatalogEntry): string {
  const d = describe(entry);
  const lines = [`${d.uses}  (${d.support})`, `  ${d.summary}`, `  digest: ${d.digest}`, '', 'inputs:'];
  lines.push(
    d.inputs.length === 0
      ? '  (none)'
      : table(
          d.inputs.map((r) => [r.name, r.type, r.required ? 'required' : 'optional', r.description]),
          '  ',
        ).trimEnd(),
  );
  lines.push('', 'outputs:', d.outputs.length ? `  ${d.outputs.join(', ')}` : '  (none)', '', 'example:');
  lines.push(
    dump([d.example], { flowLevel: 2, lineWidth: 100 })
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  return lines.join('\n') + '\n';
}

/** Columns padded to their widest cell; the last column is not padded. */
function table(rows: string[][], indent = ''): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map(
      (r) =>
        indent +
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
