// docs/reference/tasks/<name>.md for every built-in task, from its task.json (the spec the
// compiler and the task both check): summary, support tier, inputs with their types, outputs
// and an example. The rows and the example are the ones `maestro tasks show` prints
// (cli/task-listing.ts), so the page and the command cannot disagree.
import { dump } from 'js-yaml';
import semver from 'semver';
import { exampleWith, inputRows } from '../cli/index.ts';
import type { CatalogEntry } from '../core/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export async function taskReferences(): Promise<Map<string, string>> {
  const catalog = await loadBuiltinCatalog();
  const pages = new Map<string, string>();
  const entries = catalog
    .names()
    .map(
      (name) =>
        [...catalog.versions(name)].sort((a, b) => semver.rcompare(a.version, b.version))[0] as CatalogEntry,
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) pages.set(`docs/reference/tasks/${entry.name}.md`, taskPage(entry));
  pages.set('docs/reference/tasks/README.md', indexPage(entries));
  return pages;
}

function taskPage(entry: CatalogEntry): string {
  const uses = `tasks/${entry.name}@${semver.major(entry.version)}`;
  const rows = inputRows(entry).map(
    (r) => `| \`${r.name}\` | ${cell(r.type)} | ${r.required ? 'yes' : ''} | ${cell(r.description)} |`,
  );
  const example = dump([{ id: 'step', uses, with: exampleWith(entry) }], { flowLevel: 2, lineWidth: 100 });
  return [
    `# \`${uses}\` (${entry.version})`,
    '',
    `<!-- Generated from tasks/${entry.name}/task.json by scripts/generate-reference.ts. Do not edit. -->`,
    '',
    entry.description,
    '',
    `Support tier: **${entry.support ?? 'core'}**. How it is used, its secrets and its errors:`,
    '[docs/tasks.md](../../tasks.md) and [tasks/README.md](../../../tasks/README.md).',
    '',
    '## Inputs (`with:`)',
    '',
    ...(rows.length === 0
      ? ['(none)']
      : ['| input | type | required | description |', '|---|---|---|---|', ...rows]),
    '',
    '## Outputs',
    '',
    entry.outputs.length === 0 ? '(none)' : entry.outputs.map((o) => `- \`${o}\``).join('\n'),
    '',
    '## Example',
    '',
    '```yaml',
    example.trimEnd(),
    '```',
    '',
  ].join('\n');
}

function indexPage(entries: CatalogEntry[]): string {
  return [
    '# Built-in tasks',
    '',
    '<!-- Generated from tasks/*/task.json by scripts/generate-reference.ts. Do not edit. -->',
    '',
    '| task | version | support | summary |',
    '|---|---|---|---|',
    ...entries.map(
      (e) =>
        `| [\`tasks/${e.name}@${semver.major(e.version)}\`](${e.name}.md) | ${e.version} | ${e.support ?? 'core'} | ${cell(e.description)} |`,
    ),
    '',
  ].join('\n');
}
