/**
 * `npm test`: the whole suite with coverage, then a per-folder line-coverage table against the
 * floors in vitest.config.ts (vitest itself fails the run when a folder is below its floor).
 * With arguments (`npm test -- engine/`), it runs just those tests, without coverage: a subset
 * would fall below every floor.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { coverageFloors } from '../vitest.config.ts';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const full = args.length === 0;
const summaryFile = join(root, 'coverage', 'coverage-summary.json');
if (full) rmSync(join(root, 'coverage'), { recursive: true, force: true });

const vitest = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...(full ? ['--coverage'] : args)],
  { cwd: root, stdio: 'inherit' },
);
if (full && existsSync(summaryFile)) printFolderTable(JSON.parse(readFileSync(summaryFile, 'utf8')));
process.exitCode = vitest.status ?? 1;

interface Totals {
  lines: { total: number; covered: number };
}

function printFolderTable(summary: Record<string, Totals>): void {
  const folders = new Map<string, { total: number; covered: number }>();
  for (const [file, totals] of Object.entries(summary)) {
    if (file === 'total') continue;
    const folder = relative(root, file).split('/')[0]!;
    const sum = folders.get(folder) ?? { total: 0, covered: 0 };
    sum.total += totals.lines.total;
    sum.covered += totals.lines.covered;
    folders.set(folder, sum);
  }
  const rows = [...folders].sort(([a], [b]) => a.localeCompare(b));
  console.log('\nLine coverage by folder (report: coverage/index.html)');
  console.log('folder       lines    covered   floor');
  for (const [folder, { total, covered }] of rows) {
    const pct = total === 0 ? 100 : (100 * covered) / total;
    const floor = coverageFloors[folder] ?? 0;
    const mark = pct + 1e-9 >= floor ? 'ok' : 'BELOW';
    console.log(
      `${folder.padEnd(12)} ${String(total).padStart(6)}  ${pct.toFixed(1).padStart(6)} %  ${String(floor).padStart(3)} %  ${mark}`,
    );
  }
}
