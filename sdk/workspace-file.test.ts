import { describe, expect, it } from 'vitest';
import { workspaceFile } from './workspace-file.ts';

describe('workspaceFile', () => {
  it('resolves a relative path inside the workspace', () => {
    expect(workspaceFile('/w/ws', 'out/rows.csv', '/resultFile')).toBe('/w/ws/out/rows.csv');
    expect(workspaceFile('/w/ws', 'a/../b', '/file')).toBe('/w/ws/b');
  });

  it('refuses a path out of it, or the workspace itself, naming the input', () => {
    for (const path of ['../x', '/etc/passwd', 'a/../../x', '.', ''])
      expect(() => workspaceFile('/w/ws', path, '/file')).toThrow(
        expect.objectContaining({
          code: 'path_outside_workspace',
          message: expect.stringMatching(/^\/file: /),
        }),
      );
  });
});
