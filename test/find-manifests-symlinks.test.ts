// Manifest discovery (CLI and Action) must not read files outside the repository through a
// symlink: a pull request could otherwise commit `.maestro/workflows/x.yaml -> /etc/passwd` (or
// a runner's credentials file) and have it read, compiled and quoted back in annotations.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import {
  builtinCompiler,
  findManifests,
  SYMLINK_OUTSIDE_ROOT_CODE,
  validateManifests,
} from '../workspace/index.ts';
import { captureIo } from './cli-helpers.ts';

const valid =
  'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: ok }\nspec:\n  tasks:\n    - id: a\n      run: echo\n';

function repository(): string {
  const root = mkdtempSync(join(tmpdir(), 'maestro-links-'));
  mkdirSync(join(root, '.maestro/workflows'), { recursive: true });
  writeFileSync(join(root, '.maestro/workflows/ok.yaml'), valid);
  return root;
}

describe('symlinks in manifest discovery', () => {
  it('a link to /etc/passwd is refused, named with its target, and never read', async () => {
    const root = repository();
    symlinkSync('/etc/passwd', join(root, '.maestro/workflows/passwd.yaml'));
    const files = findManifests(['.'], { cwd: root });
    expect(files.find((f) => f.display === '.maestro/workflows/passwd.yaml')?.outsideRoot).toEqual({
      target: '/etc/passwd',
    });
    const read: string[] = [];
    const reports = validateManifests(files, (bytes, file) => {
      read.push(file);
      return { diagnostics: [] };
    });
    expect(read).toEqual(['.maestro/workflows/ok.yaml']);
    const refused = reports.find((r) => r.file === '.maestro/workflows/passwd.yaml');
    expect(refused).toMatchObject({ valid: false, source: '' });
    expect(refused?.diagnostics[0]).toMatchObject({
      code: SYMLINK_OUTSIDE_ROOT_CODE,
      severity: 'error',
      line: 1,
    });
    expect(refused?.diagnostics[0]?.message).toBe(
      '.maestro/workflows/passwd.yaml is a symlink to /etc/passwd, outside the repository root; it was not read',
    );

    const io = captureIo(root);
    expect(await runCli(['validate', '.'], io)).toBe(1);
    expect(io.out() + io.err()).toContain('symlink to /etc/passwd');
    expect(io.out() + io.err()).not.toMatch(/root:x:0:0/);
  });

  it('a link to a manifest outside the root is refused; an explicit file argument too', async () => {
    const root = repository();
    const outside = mkdtempSync(join(tmpdir(), 'maestro-outside-'));
    writeFileSync(join(outside, 'secret.yaml'), valid.replace('name: ok', 'name: outside'));
    symlinkSync(join(outside, 'secret.yaml'), join(root, '.maestro/workflows/linked.yaml'));
    symlinkSync(outside, join(root, 'elsewhere'));
    const files = findManifests(['.', '.maestro/workflows/linked.yaml', 'elsewhere/secret.yaml'], {
      cwd: root,
    });
    expect(files.map((f) => [f.display, f.outsideRoot?.target])).toEqual([
      ['.maestro/workflows/linked.yaml', join(outside, 'secret.yaml')],
      ['.maestro/workflows/ok.yaml', undefined],
      ['elsewhere/secret.yaml', join(outside, 'secret.yaml')],
    ]);
    const reports = validateManifests(files, await builtinCompiler());
    expect(reports.map((r) => [r.file, r.valid])).toEqual([
      ['.maestro/workflows/linked.yaml', false],
      ['.maestro/workflows/ok.yaml', true],
      ['elsewhere/secret.yaml', false],
    ]);
  });

  it('a link that stays inside the repository still works', () => {
    const root = repository();
    mkdirSync(join(root, 'shared'));
    writeFileSync(join(root, 'shared/common.yaml'), valid.replace('name: ok', 'name: common'));
    symlinkSync('../../shared/common.yaml', join(root, '.maestro/workflows/common.yaml'));
    const files = findManifests(['.'], { cwd: root });
    const common = files.find((f) => f.display === '.maestro/workflows/common.yaml');
    expect(common?.outsideRoot).toBeUndefined();
    const [report] = validateManifests([common!], (bytes) => ({
      diagnostics: [],
      name: /name: (\w+)/.exec(Buffer.from(bytes).toString())?.[1],
    }));
    expect(report).toMatchObject({ valid: true, name: 'common' });
  });

  it('the Action root: a link from the workspace to the runner host is refused', () => {
    const workspace = repository();
    symlinkSync('/etc/hostname', join(workspace, '.maestro/workflows/host.yaml'));
    const files = findManifests(['.maestro'], { cwd: workspace, root: workspace });
    expect(files.find((f) => f.display === '.maestro/workflows/host.yaml')?.outsideRoot).toEqual({
      target: '/etc/hostname',
    });
  });
});
