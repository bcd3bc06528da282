/**
 * bin/maestro.js (`npm start`, `npm run maestro`) runs the CLI bundled by scripts/build-cli.ts:
 * the same answers as the sources, no TypeScript loaded (Node's type stripper is most of a
 * start's cost), and a rebuild when the bundle no longer matches its inputs. Measured by what
 * the process loads and prints, never by time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const current = join(repo, '.cache', 'cli', 'current.json');
const manifest = 'examples/quickstart/.maestro/workflows/hello.yaml';

// Runs before the CLI: counts the modules loaded from .ts files, and lists the packages' files.
const countTs = `
import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
let ts = 0;
const packages = [];
registerHooks({ load(url, context, next) {
  if (/\\.[cm]?ts$/.test(url)) ts++;
  if (url.includes('/node_modules/')) packages.push(url.split('/node_modules/').slice(1).join('/node_modules/'));
  return next(url, context);
} });
process.on('exit', () => writeSync(2, 'TS_MODULES ' + ts + '\\nPACKAGE_FILES ' + JSON.stringify(packages) + '\\n'));
`;

function maestro(entry: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(countTs)}`, entry, ...args],
    { cwd: repo, encoding: 'utf8', timeout: 120_000, env },
  );
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    ts: Number(/^TS_MODULES (\d+)$/m.exec(result.stderr)?.[1]),
    packageFiles: JSON.parse(/^PACKAGE_FILES (.*)$/m.exec(result.stderr)?.[1] ?? '[]') as string[],
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

  it('runs the quickstart as the sources do, without the modules it never calls', () => {
    const run = (entry: string) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'maestro-cli-bundle-'));
      try {
        const result = maestro(entry, ['run', manifest], { ...process.env, MAESTRO_DATA_DIR: dataDir });
        return { ...result, stdout: result.stdout.replace(/r-[0-9a-f-]{36}/g, '<run>') };
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    };
    const bundled = run('bin/maestro.js');
    const sources = run('bin/maestro.ts');
    expect(bundled.status, bundled.stderr).toBe(0);
    expect(bundled.stdout).toBe(sources.stdout);
    expect(bundled.stdout).toContain('report | Hello, world! (13 characters)');
    // opa-wasm's yaml 1.x, pino's worker-thread transport and the OTel API's modules: the sources
    // load them, the bundle does not (scripts/cli-bundle-memory.ts).
    for (const file of [
      '@open-policy-agent/opa-wasm/node_modules/yaml/',
      'thread-stream/',
      '@opentelemetry/api/',
    ]) {
      expect(sources.packageFiles.some((f) => f.startsWith(file))).toBe(true);
      expect(bundled.packageFiles.filter((f) => f.startsWith(file))).toEqual([]);
    }
  });

  it('writes chunks V8 can keep as one-byte strings (ASCII only)', () => {
    maestro('bin/maestro.js', ['--help']); // a build exists
    const { dir } = JSON.parse(readFileSync(current, 'utf8')) as { dir: string };
    const chunks = readdirSync(join(repo, '.cache', 'cli', dir)).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(10);
    const nonAscii = chunks.filter((f) =>
      /[\u0080-\uffff]/.test(readFileSync(join(repo, '.cache', 'cli', dir, f), 'utf8')),
    );
    expect(nonAscii).toEqual([]);
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
