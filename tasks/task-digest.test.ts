// The code digest of a task that is not built in (a repository task, a locked catalog task): its
// files and, when its code names `@summit-maestro/sdk`, the SDK the Maestro running it provides.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageDigest, taskDigestOfFiles, taskDigestOfFolder } from './index.ts';

const sdkSource = new URL('../sdk/', import.meta.url).pathname;

function folderWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-task-digest-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Two copies of this SDK: one as it is, one with a byte of its code changed. */
function sdkCopies(): { same: string; changed: string } {
  const root = mkdtempSync(join(tmpdir(), 'maestro-sdk-copy-'));
  const same = join(root, 'same');
  const changed = join(root, 'changed');
  cpSync(sdkSource, same, { recursive: true });
  cpSync(sdkSource, changed, { recursive: true });
  const file = join(changed, 'define-task.ts');
  writeFileSync(file, readFileSync(file, 'utf8').replace('export', 'export '));
  return { same, changed };
}

const ON_SDK = {
  'task.json': '{"name":"t","version":"1.0.0","description":"d"}',
  'index.ts': "import { defineTask, runMain } from '@summit-maestro/sdk';\nexport {};\n",
};

describe('the digest of a repository or catalog task', () => {
  it('covers the SDK the task runs with: a changed SDK changes it', async () => {
    const { same, changed } = sdkCopies();
    const task = folderWith(ON_SDK);
    const own = await packageDigest(task);
    const withSdk = await taskDigestOfFolder(task, same);
    expect(withSdk).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(withSdk).not.toBe(own);
    // This install's SDK is the default, and an identical copy digests the same.
    expect(await taskDigestOfFolder(task)).toBe(withSdk);
    expect(await taskDigestOfFolder(task, changed)).not.toBe(withSdk);
  });

  it('covers it whichever file names it, however: a helper, a dynamic import, a require', async () => {
    const { same, changed } = sdkCopies();
    for (const helper of [
      "export const sdk = await import('@summit-maestro/sdk');\n",
      'module.exports = require("@summit-maestro/sdk");\n',
    ]) {
      const task = folderWith({
        'task.json': ON_SDK['task.json'],
        'index.ts': "import './lib/helper.ts';\n",
        'lib/helper.ts': helper,
      });
      expect(await taskDigestOfFolder(task, changed)).not.toBe(await taskDigestOfFolder(task, same));
    }
  });

  it('is the package digest for a task that names no SDK (its own code, or the SDK bundled into it)', async () => {
    const { same, changed } = sdkCopies();
    const bundled = folderWith({
      'task.json': ON_SDK['task.json'],
      'index.js': '// bundled by esbuild: the SDK is part of this file\nexport function defineTask() {}\n',
      // Only a test names it: tests are not part of the package and never run as the task.
      'index.test.ts': "import '@summit-maestro/sdk';\n",
      'README.md': 'uses `@summit-maestro/sdk` at build time',
    });
    expect(await taskDigestOfFolder(bundled, same)).toBe(await packageDigest(bundled));
    expect(await taskDigestOfFolder(bundled, changed)).toBe(await packageDigest(bundled));
  });

  it('is the same over files read from git blobs (the App) as over the folder (the CLI, the engine)', async () => {
    const task = folderWith({ ...ON_SDK, 'lib/x.ts': 'export const x = 1;\n' });
    const files = ['task.json', 'index.ts', 'lib/x.ts'].map((path) => ({
      path,
      bytes: readFileSync(join(task, path)),
    }));
    expect(taskDigestOfFiles(files)).toBe(await taskDigestOfFolder(task));
  });
});
