import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAllowedRunbook, readRunbooksFile } from './runbooks-file.ts';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'runbooks-')), 'runbooks.yaml');
  writeFileSync(path, text);
  return path;
};

describe('the runbooks file (MAESTRO_RUNBOOKS_FILE)', () => {
  it('allows a name only in the namespace that lists it; no file allows nothing', () => {
    const list = readRunbooksFile(file('namespaces:\n  ops: [rollback, chaos-drill]\n  data: []\n'));
    expect(isAllowedRunbook(list, 'ops', 'rollback')).toBe(true);
    expect(isAllowedRunbook(list, 'data', 'rollback')).toBe(false);
    expect(isAllowedRunbook(list, 'quickstart', 'rollback')).toBe(false);
    expect(readRunbooksFile(undefined).size).toBe(0);
  });

  it('rejects a file that is not the allow-list, naming the problem', () => {
    for (const [text, problem] of [
      ['ops: [rollback]\n', 'has no "namespaces" mapping'],
      ['namespaces:\n  ops: rollback\n', 'not a list of workflow names'],
      ['namespaces:\n  ops: [Roll_Back]\n', 'not a list of workflow names'],
      ['namespaces:\n  Ops: [rollback]\n', 'not a name'],
      ['namespaces: [\n', 'is not YAML'],
    ] as const)
      expect(() => readRunbooksFile(file(text)), text).toThrow(problem);
    expect(() => readRunbooksFile('/nonexistent/runbooks.yaml')).toThrow('cannot be read');
  });
});
