// echo in-process on the SDK's harness (tasks/tasks.test.ts runs it as a process).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { echo } from './index.ts';

describe('the echo task', () => {
  it('sets message and every entry of outputs, as text', async () => {
    const r = await runTask(echo, { message: 'hi', outputs: { n: 3, ok: false, v: '1.2' } });
    expect(r.outcome).toBe('succeeded');
    expect(r.outputs).toEqual({ message: 'hi', n: '3', ok: 'false', v: '1.2' });
  });

  it('refuses an output with a line break before setting any (output_line_break)', async () => {
    const r = await runTask(echo, { outputs: { a: 'fine', bad: 'x\r\ny' } });
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatchObject({ code: 'output_line_break' });
    expect(r.outputs).toEqual({});
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(echo.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(echo.spec.outputs.properties ?? {}));
  });
});
