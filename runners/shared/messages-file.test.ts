import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { createRedactor } from '../../core/index.ts';
import { collectMessages, MAX_IMAGES_PER_ATTEMPT, MAX_STATE_BYTES, readMessages } from './messages-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = () => 1000;
const none = createRedactor([]);
const lines = (...messages: unknown[]) => messages.map((m) => JSON.stringify(m)).join('\n') + '\n';
const texts = (r: { lines: { text: string }[] }) => r.lines.map((l) => l.text);

describe('readMessages', () => {
  it('takes declared outputs (a later one wins) and the log messages, stdout for info, stderr for warn', () => {
    const read = readMessages(
      lines(
        { v: 1, type: 'output', name: 'answer', value: '41' },
        { v: 1, type: 'log', message: 'hello' },
        { v: 1, type: 'log', level: 'warn', message: 'careful' },
        { v: 1, type: 'output', name: 'answer', value: '42' },
      ),
      ['answer'],
      none,
      now,
    );
    expect(read.outputs).toEqual({ answer: '42' });
    expect(read.lines).toEqual([
      { stream: 'stdout', text: 'hello', time: 1000 },
      { stream: 'stderr', text: 'careful', time: 1000 },
    ]);
  });

  it('keeps every output when none is declared', () => {
    const read = readMessages(lines({ v: 1, type: 'output', name: 'x', value: '1' }), [], none, now);
    expect(read.outputs).toEqual({ x: '1' });
  });

  it('an output the task does not declare is not an output, and the log says so', () => {
    const read = readMessages(
      lines(
        { v: 1, type: 'output', name: 'PATH', value: '/evil' },
        { v: 1, type: 'output', name: 'ok', value: 'y' },
      ),
      ['ok'],
      none,
      now,
    );
    expect(read.outputs).toEqual({ ok: 'y' });
    expect(texts(read)).toEqual([
      'messages line 1 (output): output "PATH" is not declared (declared: ok); ignored',
    ]);
  });

  it('a log message carrying a secret, one line or several, is redacted on every line', () => {
    const pem = '-----BEGIN KEY-----\nc2VjcmV0\n-----END KEY-----';
    const redact = createRedactor([pem, 'tok3n']);
    const read = readMessages(
      lines(
        { v: 1, type: 'log', message: `using tok3n now` },
        { v: 1, type: 'log', message: pem },
        { v: 1, type: 'state', value: { cursor: 'tok3n' } },
      ),
      [],
      redact,
      now,
    );
    expect(texts(read).slice(0, 4)).toEqual(['using *** now', '***', '***', '***']);
    expect(JSON.stringify(read)).not.toContain('tok3n');
    expect(read.state).toBe('{"cursor":"***"}');
    for (const piece of pem.split('\n')) expect(JSON.stringify(read)).not.toContain(piece);
  });

  it('a malformed line, an unknown type and a newer version are each one clear log line, never a throw', () => {
    const text = [
      'not json',
      '[1,2]',
      JSON.stringify({ v: 2, type: 'output', name: 'a', value: 'b' }),
      JSON.stringify({ type: 'output', name: 'a', value: 'b' }),
      JSON.stringify({ v: 1, type: 'teleport' }),
      JSON.stringify({ v: 1, type: 'output', name: 'a', value: 7 }),
      JSON.stringify({ v: 1, type: 'log', level: 'loud', message: 'x' }),
      JSON.stringify({ v: 1, type: 'metric', name: 'rows', value: 'many' }),
      JSON.stringify({ v: 1, type: 'state' }),
      JSON.stringify({ v: 1, type: 'artifact' }),
      JSON.stringify({ v: 1, type: 'progress', done: 'half' }),
      JSON.stringify({ v: 1, type: 'output', value: 'b' }),
      JSON.stringify({ v: 1, type: 'log' }),
      JSON.stringify({ v: 1, type: 'progress', total: 'x' }),
      JSON.stringify({ v: 1, type: 'metric', value: 1 }),
    ].join('\r\n');
    const read = readMessages(text, [], none, now);
    expect(read.outputs).toEqual({});
    expect(texts(read)).toEqual([
      'messages line 1: not JSON; ignored',
      'messages line 2: not a JSON object; ignored',
      'messages line 3: protocol version 2 is not supported (this runner reads v 1); ignored',
      'messages line 4: protocol version null is not supported (this runner reads v 1); ignored',
      'messages line 5: unknown message type "teleport"; ignored',
      'messages line 6 (output): "value" must be a string; ignored',
      'messages line 7 (log): "level" must be one of debug, info, warn, error; ignored',
      'messages line 8 (metric): "value" must be a finite number; ignored',
      'messages line 9 (state): "value" is missing; ignored',
      'messages line 10 (artifact): "path" must be a non-empty string; ignored',
      'messages line 11 (progress): "done" must be a number; ignored',
      'messages line 12 (output): "name" must be a non-empty string; ignored',
      'messages line 13 (log): "message" must be a string; ignored',
      'messages line 14 (progress): "total" must be a number; ignored',
      'messages line 15 (metric): "name" must be a non-empty string; ignored',
    ]);
    expect(read.lines.every((l) => l.stream === 'system')).toBe(true);
  });

  it('records metrics, artifacts, progress, heartbeats and state in the log; the last state is kept', () => {
    const read = readMessages(
      lines(
        { v: 1, type: 'metric', name: 'rows', value: 600, unit: 'rows' },
        { v: 1, type: 'artifact', path: 'dist/app.bin' },
        { v: 1, type: 'progress', done: 600, total: 1000, message: 'reading' },
        { v: 1, type: 'progress' },
        { v: 1, type: 'heartbeat' },
        { v: 1, type: 'heartbeat' },
        { v: 1, type: 'state', value: { cursor: 600 } },
        { v: 1, type: 'state', value: 'x'.repeat(300) },
      ),
      [],
      none,
      now,
    );
    expect(texts(read)).toEqual([
      'metric rows=600 rows',
      'artifact reported: dist/app.bin (kept only when the manifest declares it under artifacts:)',
      'progress 600/1000 reading',
      'progress',
      'state checkpoint (14 bytes) received ({"cursor":600})',
      expect.stringMatching(/^state checkpoint \(302 bytes\) received \(.*x…\)$/),
      'messages: 2 heartbeat(s) received',
    ]);
    expect(read.state).toBe(JSON.stringify('x'.repeat(300)));
  });

  it('keeps no checkpoint over 1 MiB: an error line says so, and the previous checkpoint stands', () => {
    const read = readMessages(
      lines(
        { v: 1, type: 'state', value: { cursor: 500 } },
        { v: 1, type: 'state', value: { cursor: 600, rows: 'x'.repeat(MAX_STATE_BYTES) } },
      ),
      [],
      none,
      now,
    );
    expect(read.state).toBe('{"cursor":500}');
    expect(read.lines.at(-1)).toMatchObject({
      stream: 'stderr',
      text: expect.stringMatching(
        /^error: state checkpoint of \d+ bytes exceeds the 1048576-byte limit; not stored/,
      ),
    });
  });
});

describe('collectMessages', () => {
  it('reads the file once and removes it', () => {
    const file = join(dir, 'once.jsonl');
    writeFileSync(file, lines({ v: 1, type: 'output', name: 'a', value: 'b' }));
    expect(collectMessages(file, ['a'], none, now)).toEqual({ outputs: { a: 'b' }, lines: [] });
    expect(existsSync(file)).toBe(false);
    expect(collectMessages(file, ['a'], none, now)).toEqual({ outputs: {}, lines: [] });
  });

  it('refuses an oversized file without reading it (no outputs, a reason to fail the attempt)', () => {
    const file = join(dir, 'big.jsonl');
    writeFileSync(file, lines({ v: 1, type: 'output', name: 'a', value: 'x'.repeat(2000) }));
    const got = collectMessages(file, ['a'], none, now, 1024);
    expect(got.outputs).toEqual({});
    expect(got.refused).toBe("the task's messages file is larger than 1024 bytes; it was not read");
    expect(texts(got)).toEqual([got.refused]);
  });

  it('never follows a messages file the task replaced with a symlink to a host file', () => {
    const host = join(dir, 'host-secret.env');
    writeFileSync(host, `${JSON.stringify({ v: 1, type: 'log', message: 'HOST-SECRET' })}\n`);
    const file = join(dir, 'link.jsonl');
    symlinkSync(host, file);
    const got = collectMessages(file, [], none, now);
    expect(got.refused).toBe("the task's messages file is a symbolic link; it was not read");
    expect(JSON.stringify(got)).not.toContain('HOST-SECRET');
    expect(existsSync(file)).toBe(false); // the link is gone
    expect(readFileSync(host, 'utf8')).toContain('HOST-SECRET'); // what it pointed at is not
  });

  it('refuses a directory in its place', () => {
    const file = join(dir, 'a-dir');
    mkdirSync(file);
    expect(collectMessages(file, [], none, now).refused).toBe(
      "the task's messages file is not a regular file; it was not read",
    );
  });
});

describe('image messages (images the task built and pushed)', () => {
  const digest = `sha256:${'c'.repeat(64)}`;
  it('keeps images named by digest, once each, and refuses a tag, a bare name and too many', () => {
    const read = readMessages(
      lines(
        { v: 1, type: 'image', reference: `registry.example:5000/team/app@${digest}` },
        { v: 1, type: 'image', reference: `registry.example:5000/team/app@${digest}` },
        { v: 1, type: 'image', reference: 'registry.example/team/app:1.4' },
        { v: 1, type: 'image', reference: 'app' },
        ...Array.from({ length: MAX_IMAGES_PER_ATTEMPT }, (_, i) => ({
          v: 1,
          type: 'image',
          reference: `registry.example/team/app${i}@${digest}`,
        })),
      ),
      [],
      none,
      now,
    );
    expect(read.images).toHaveLength(MAX_IMAGES_PER_ATTEMPT);
    expect(read.images![0]).toBe(`registry.example:5000/team/app@${digest}`);
    const notes = read.lines.map((l) => l.text).join('\n');
    expect(notes).toMatch(/line 3 \(image\): "reference" must name the pushed image by digest/);
    expect(notes).toMatch(/line 4 \(image\): "reference" must name/);
    expect(notes).toMatch(/more than 16 images; ignored/);
  });
});
