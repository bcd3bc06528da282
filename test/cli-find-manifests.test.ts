import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/index.ts';
import { findManifests, validateManifests } from '../workspace/index.ts';

function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'maestro-find-'));
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), 'x: 1\n');
  }
  return root;
}

describe('findManifests', () => {
  it('finds workflows and runbooks at any depth, skipping node_modules, .git and other folders', () => {
    const root = tree([
      '.maestro/workflows/a.yaml',
      '.maestro/workflows/b.yml',
      '.maestro/workflows/notes.txt',
      '.maestro/runbooks/r.yaml',
      '.maestro/other/x.yaml',
      'svc/deep/.maestro/workflows/c.YAML',
      'node_modules/pkg/.maestro/workflows/skip.yaml',
      '.git/.maestro/workflows/skip.yaml',
      'workflows/not-under-maestro.yaml',
    ]);
    const found = findManifests(['.'], { cwd: root }).map((f) => f.display);
    expect(found).toEqual([
      '.maestro/runbooks/r.yaml',
      '.maestro/workflows/a.yaml',
      '.maestro/workflows/b.yml',
      'svc/deep/.maestro/workflows/c.YAML',
    ]);
  });

  it('takes a file as given, dedupes, and accepts the .maestro/workflows folder itself', () => {
    const root = tree(['.maestro/workflows/a.yaml', 'elsewhere/x.txt']);
    const found = findManifests(['elsewhere/x.txt', '.maestro/workflows', '.maestro/workflows/a.yaml'], {
      cwd: root,
    });
    expect(found.map((f) => f.display)).toEqual(['.maestro/workflows/a.yaml', 'elsewhere/x.txt']);
    expect(found[0]!.path).toBe(join(root, '.maestro/workflows/a.yaml'));
  });

  it('does not follow symlinked folders (no loops)', () => {
    const root = tree(['.maestro/workflows/a.yaml']);
    symlinkSync(root, join(root, 'loop'));
    expect(findManifests(['.'], { cwd: root }).map((f) => f.display)).toEqual(['.maestro/workflows/a.yaml']);
  });

  it('is a usage error for a missing path or a folder without manifests', () => {
    const root = tree(['src/main.ts']);
    expect(() => findManifests(['nope'], { cwd: root })).toThrow(UsageError);
    expect(() => findManifests(['nope'], { cwd: root })).toThrow('no such file or directory: nope');
    expect(() => findManifests(['src'], { cwd: root })).toThrow('no manifests found under src');
  });

  it('resolves from cwd but displays relative to the root (the Action: GITHUB_WORKSPACE)', () => {
    const root = tree(['svc/.maestro/workflows/a.yaml']);
    const [file] = findManifests(['.'], { cwd: join(root, 'svc'), root });
    expect(file!.display).toBe('svc/.maestro/workflows/a.yaml');
  });

  it('shows paths outside the root as absolute', () => {
    const root = tree(['.maestro/workflows/a.yaml']);
    const other = tree(['.maestro/workflows/b.yaml']);
    const [file] = findManifests([join(other, '.maestro/workflows/b.yaml')], { cwd: root });
    expect(file!.display).toBe(join(other, '.maestro/workflows/b.yaml'));
  });
});

describe('validateManifests', () => {
  it('turns an unreadable file into a diagnostic and keeps going', () => {
    const root = tree(['.maestro/workflows/a.yaml']);
    mkdirSync(join(root, 'dir.yaml'));
    const files = [
      { path: join(root, 'dir.yaml'), display: 'dir.yaml' },
      { path: join(root, '.maestro/workflows/a.yaml'), display: 'a.yaml' },
    ];
    const seen: string[] = [];
    const reports = validateManifests(files, (bytes, file) => {
      seen.push(`${file}:${Buffer.from(bytes).toString()}`);
      return { diagnostics: [] };
    });
    expect(reports[0]).toMatchObject({ file: 'dir.yaml', valid: false });
    expect(reports[0]!.diagnostics[0]).toMatchObject({ code: 'MS9001', severity: 'error', line: 1 });
    expect(reports[1]).toMatchObject({ file: 'a.yaml', valid: true, source: 'x: 1\n' });
    expect(seen).toEqual(['a.yaml:x: 1\n']);
  });

  it('a file with only warnings is valid; the file name is stamped on each diagnostic', () => {
    const root = tree(['a.yaml']);
    const [r] = validateManifests([{ path: join(root, 'a.yaml'), display: 'a.yaml' }], () => ({
      diagnostics: [
        {
          code: 'MS2006',
          severity: 'warning',
          message: 'dup',
          pointer: '',
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 2,
        },
      ],
    }));
    expect(r!.valid).toBe(true);
    expect(r!.diagnostics[0]!.file).toBe('a.yaml');
  });
});
