/**
 * @summit-maestro/sdk is a package of its own: built by tsc from sdk/ alone into JavaScript with
 * declarations, importing only its declared dependencies and Node's built-ins (never the engine
 * or any other folder of this repository), and usable as built.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sdk from './index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sdkDir = import.meta.dirname;
const root = mkdtempSync(join(tmpdir(), 'maestro-sdk-build-'));
const out = join(root, 'dist');
const manifest = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')) as {
  name: string;
  types: string;
  main: string;
  dependencies: Record<string, string>;
};

const tsc = join(sdkDir, '..', 'node_modules', 'typescript', 'bin', 'tsc');

beforeAll(() => {
  execFileSync(process.execPath, [tsc, '-p', join(sdkDir, 'tsconfig.json'), '--outDir', out], {
    stdio: 'pipe',
  });
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('@summit-maestro/sdk as a package', () => {
  it('names its entry and its types, and builds both', () => {
    expect(manifest).toMatchObject({
      name: '@summit-maestro/sdk',
      main: './dist/index.js',
      types: './dist/index.d.ts',
    });
    const built = readdirSync(out);
    expect(built).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'define-task.d.ts']));
    expect(built.filter((f) => f.includes('test'))).toEqual([]);
  });

  it('imports only its dependencies, Node built-ins and its own files', () => {
    const allowed = new Set(Object.keys(manifest.dependencies));
    for (const file of readdirSync(out).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const text = readFileSync(join(out, file), 'utf8');
      for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
        const ok =
          spec!.startsWith('node:') ||
          /^\.\/[a-z-]+\.js$/.test(spec!) ||
          (file.endsWith('.d.ts') && /^\.\/[a-z-]+\.ts$/.test(spec!)) ||
          allowed.has(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!);
        expect(ok, `${file} imports ${spec}`).toBe(true);
      }
    }
  });

  it("type-checks a consumer's task against the built declarations: inputs and outputs typed from the spec", () => {
    const consumer = join(root, 'consumer');
    const pkg = join(consumer, 'node_modules', '@summit-maestro', 'sdk');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(sdkDir, 'package.json'), join(pkg, 'package.json'));
    cpSync(out, join(pkg, 'dist'), { recursive: true });
    for (const dep of ['json-schema-to-ts', 'ts-algebra', 'ajv', '@types'])
      symlinkSync(join(sdkDir, '..', 'node_modules', dep), join(consumer, 'node_modules', dep));
    writeFileSync(join(consumer, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2024',
          module: 'nodenext',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['task.ts'],
      }),
    );
    const task = (body: string) =>
      writeFileSync(
        join(consumer, 'task.ts'),
        `import { defineTask } from '@summit-maestro/sdk';
export default defineTask({
  name: 'n', version: '1.0.0',
  spec: {
    inputs: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
    outputs: { type: 'object', properties: { m: { type: 'number' } } },
  },
  execute: (inputs) => ({ m: ${body} }),
});\n`,
      );
    const check = () => {
      try {
        execFileSync(process.execPath, [tsc, '-p', consumer], { stdio: 'pipe' });
        return '';
      } catch (error) {
        return String((error as { stdout: Buffer }).stdout);
      }
    };
    task('inputs.n + 1');
    expect(check()).toBe('');
    task("inputs.n + 'x'");
    expect(check()).toContain("Type 'string' is not assignable to type 'number'");
  }, 120_000);

  it('runs a task as built', async () => {
    const sdk = (await import(pathToFileURL(join(out, 'index.js')).href)) as typeof Sdk;
    const task = sdk.defineTask({
      name: 'built',
      version: '1.0.0',
      spec: {
        inputs: { type: 'object' },
        outputs: { type: 'object', properties: { ok: { type: 'string' } } },
      },
      execute: () => ({ ok: 'yes' }),
    });
    expect(await sdk.runTask(task, {})).toMatchObject({ outcome: 'succeeded', outputs: { ok: 'yes' } });
  });
});
