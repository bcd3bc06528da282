// `maestro … | head`: the reader closes the pipe before maestro writes; maestro stops quietly.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

it('stops quietly, without a stack trace, when the reader of its output goes away', async () => {
  const child = spawn(
    join(root, 'node_modules', '.bin', 'node'),
    [join(root, 'bin', 'maestro.ts'), '--help'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.destroy(); // the reader is gone before maestro writes a byte
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(stderr).toBe('');
  expect(code).toBe(0);
});
