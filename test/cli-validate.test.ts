import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { captureIo } from './cli-helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const broken = 'examples/quickstart/broken/.maestro/workflows/broken.yaml';
const brokenLines = readFileSync(join(root, broken), 'utf8').split('\n');

/** 1-based line and column of `needle` in the broken example, so the test follows the file. */
function positionOf(needle: string): { line: number; column: number } {
  const index = brokenLines.findIndex((l) => l.includes(needle));
  expect(index, `${needle} is in ${broken}`).toBeGreaterThanOrEqual(0);
  return { line: index + 1, column: brokenLines[index]!.indexOf(needle) + 1 };
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(root);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('maestro validate', () => {
  it('passes every valid example (exit 0)', async () => {
    const { code, out } = await cli([
      'validate',
      'examples/ci-build-test-deploy',
      'examples/data-pipeline',
      'examples/quickstart/.maestro',
    ]);
    expect(out).toContain('ok examples/ci-build-test-deploy/.maestro/workflows/build-test-deploy.yaml');
    expect(out).toContain('ok examples/data-pipeline/.maestro/workflows/nightly-etl.yaml');
    expect(out).toContain('ok examples/quickstart/.maestro/workflows/hello.yaml');
    expect(out).toMatch(/3 files checked: all valid/);
    expect(code).toBe(0);
  });

  it('reports every problem of the broken example at its line, with a caret (exit 1)', async () => {
    const { code, out } = await cli(['validate', 'examples/quickstart/broken']);
    expect(code).toBe(1);
    const need = positionOf('greeet');
    expect(out).toContain(`${broken}:${need.line}:${need.column}: error[MS2002]:`);
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${broken}:${need.line}:${need.column}:`));
    expect(lines[at + 1]).toBe(` ${need.line} | ${brokenLines[need.line - 1]}`);
    // The caret line: same gutter width, caret under `greeet`, tildes to its end.
    const gutter = ` ${need.line} | `.length;
    expect(lines[at + 2]).toBe(`${' '.repeat(gutter - 2)}| ${' '.repeat(need.column - 1)}^~~~~~`);
    const param = positionOf('${params.whom}');
    expect(out).toContain(`${broken}:${param.line}:${param.column}: error[MS3002]:`);
    const output = positionOf('${tasks.greet.outputs.greting}');
    expect(out).toContain(`${broken}:${output.line}:${output.column}: error[MS3004]:`);
    const timeout = positionOf('10 minutes');
    expect(out).toMatch(new RegExp(`${broken}:${timeout.line}:${timeout.column}: error\\[MS1\\d{3}\\]:`));
    expect(out).toMatch(/1 file checked: 1 invalid \(4 errors, 0 warnings\)/);
  });

  it('--format json gives exactly the promised shape', async () => {
    const { code, out } = await cli(['validate', 'examples/quickstart', '--format', 'json']);
    expect(code).toBe(1);
    const json = JSON.parse(out) as { files: Array<{ file: string; valid: boolean; diagnostics: object[] }> };
    expect(json.files.map((f) => [f.file, f.valid])).toEqual([
      ['examples/quickstart/.maestro/workflows/hello.yaml', true],
      [broken, false],
    ]);
    const keys = ['code', 'severity', 'message', 'hint', 'pointer', 'line', 'column', 'endLine', 'endColumn'];
    for (const d of json.files[1]!.diagnostics) expect(Object.keys(d)).toEqual(keys);
    expect(json.files[1]!.diagnostics).toContainEqual(
      expect.objectContaining({
        code: 'MS2002',
        line: positionOf('greeet').line,
        pointer: '/spec/tasks/1/needs/0',
      }),
    );
  });

  it('--format github prints escaped workflow commands', async () => {
    const { code, out } = await cli(['validate', broken, '--format', 'github']);
    expect(code).toBe(1);
    const need = positionOf('greeet');
    expect(out).toMatch(
      new RegExp(
        `^::error file=${broken.replace(/\./g, '\\.')},line=${need.line},col=${need.column},endLine=${need.line},endColumn=${need.column + 6},title=MS2002%3A `,
        'm',
      ),
    );
    expect(out.trim().split('\n')).toHaveLength(4);
  });

  it('usage errors exit 2: unknown format, missing path, no manifests, no arguments', async () => {
    expect((await cli(['validate', 'examples', '--format', 'xml'])).code).toBe(2);
    const missing = await cli(['validate', 'no/such/dir']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such file or directory: no/such/dir');
    const empty = await cli(['validate', 'docs']);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('no manifests found under docs');
    expect((await cli(['validate'])).code).toBe(2);
  });

  it('lists warnings but does not fail on them (exit 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-warn-'));
    mkdirSync(join(dir, '.maestro/workflows'), { recursive: true });
    const manifest = [
      'apiVersion: maestro/v1',
      'kind: Workflow',
      'metadata: { name: warn }',
      'spec:',
      '  tasks:',
      '    - id: a',
      '      run: "true"',
      '    - id: b',
      '      needs: [a, a]',
      '      run: "true"',
    ].join('\n');
    writeFileSync(join(dir, '.maestro/workflows/warn.yaml'), manifest);
    const io = captureIo(dir);
    const code = await runCli(['validate', '.', '--format', 'json'], io);
    const json = JSON.parse(io.out()) as {
      files: Array<{ valid: boolean; diagnostics: Array<{ severity: string; line: number }> }>;
    };
    expect(json.files[0]!.valid).toBe(true);
    expect(json.files[0]!.diagnostics).toContainEqual(
      expect.objectContaining({ severity: 'warning', line: 9 }),
    );
    expect(code).toBe(0);
  });

  it('is listed in maestro --help beside compile and graph', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    for (const command of ['validate', 'compile', 'graph'])
      expect(out).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('has --help', async () => {
    const { code, out } = await cli(['validate', '--help']);
    expect(code).toBe(0);
    expect(out).toContain('Usage: maestro validate [options] <paths...>');
    expect(out).toContain('--format <format>');
  });
});

describe('bin/maestro.ts (a real process)', () => {
  it('prints the caret output for a broken manifest and exits 1', async () => {
    const run = promisify(execFile);
    const error = await run(process.execPath, ['bin/maestro.ts', 'validate', broken], { cwd: root }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(error, 'validate of a broken manifest must fail').toBeDefined();
    expect(error!.code).toBe(1);
    const need = positionOf('greeet');
    expect(error!.stdout).toContain(`${broken}:${need.line}:${need.column}: error[MS2002]`);
    expect(error!.stdout).toContain(`| ${' '.repeat(need.column - 1)}^~~~~~\n`);
    expect(error!.stderr).toBe('');
  });
});
