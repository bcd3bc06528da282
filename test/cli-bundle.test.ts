/**
 * bin/maestro.js (`npm start`, `npm run maestro`) runs the CLI bundled by scripts/build-cli.ts:
 * the same answers as the sources, no TypeScript loaded (Node's type stripper is most of a
 * start's cost), and a rebuild when the bundle no longer matches its inputs. Measured by what
 * the process loads and prints, never by time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const current = join(repo, '.cache', 'cli', 'current.json');
const manifest = 'examples/quickstart/.maestro/workflows/hello.yaml';

// Runs before the CLI: counts the modules loaded from .ts files.
const countTs = `
import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
let ts = 0;
registerHooks({ load(url, context, next) { if (/\\.[cm]?ts$/.test(url)) ts++; return next(url, context); } });
process.on('exit', () => writeSync(2, 'TS_MODULES ' + ts + '\\n'));
`;

function maestro(entry: string, args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(countTs)}`, entry, ...args],
    { cwd: repo, encoding: 'utf8', timeout: 120_000 },
  );
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    ts: Number(/^TS_MODULES (\d+)$/m.exec(result.stderr)?.[1]),
  };
}

describe('bin/maestro.js (the bundled CLI)', () => {
  it('answers as the sources do, and loads no TypeScript', () => {
    for (const args of [['--help'], ['validate', manifest], ['validate', 'examples', '--format', 'json']]) {
      const bundled = maestro('bin/maestro.js', args);
      const sources = maestro('bin/maestro.ts', args);
      expect(bundled.stdout, bundled.stderr).toBe(sources.stdout);
      expect(bundled.status).toBe(sources.status);
      expect(bundled.ts, bundled.stderr).toBe(0);
      expect(sources.ts).toBeGreaterThan(10);
    }
  });

  it('rebuilds the bundle when an input no longer matches it', () => {
    maestro('bin/maestro.js', ['--help']); // a build exists
    const before = JSON.parse(readFileSync(current, 'utf8')) as {
      dir: string;
      inputs: [string, number, number][];
    };
    const stale = {
      ...before,
      inputs: before.inputs.map(([p, s, m], i): [string, number, number] => [p, i === 0 ? s + 1 : s, m]),
    };
    const temp = `${current}.test-${process.pid}`;
    writeFileSync(temp, JSON.stringify(stale));
    renameSync(temp, current);
    const run = maestro('bin/maestro.js', ['validate', manifest]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('all valid');
    expect(run.ts).toBe(0);
    const after = JSON.parse(readFileSync(current, 'utf8')) as { dir: string };
    expect(after.dir).not.toBe(before.dir);
  });
});
