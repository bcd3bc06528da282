/**
 * The records file of a connector: NDJSON, one `{ stream, data, emitted_at }` per line. A source
 * appends to it; a checkpoint first makes every record before it durable (written and fsynced)
 * and records the file's length, so a retry in the same workspace cuts the file back to exactly
 * the committed records before it appends again (no duplicates, no half line), and a retry in a
 * fresh workspace starts a new file from the checkpoint on. A destination reads it line by line.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs';
import { createReadStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { TaskError } from './errors.ts';
import type { RecordLine } from './connector-protocol.ts';

const FLUSH_BYTES = 1 << 20;

export interface RecordsWriter {
  append(line: RecordLine): void;
  /** Writes and fsyncs what is buffered; the file's committed length. */
  commit(): number;
  close(): void;
  /** Whether the file went on from a checkpoint's length (false: a new file). */
  readonly resumed: boolean;
}

/**
 * Opens `path` for a read. `from`: the length the checkpoint recorded; the file is cut back to it
 * when it holds at least that much (the same workspace), else it is started anew.
 */
export function openRecords(path: string, from: number | undefined): RecordsWriter {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  const size = fstatSync(fd).size;
  const resumed = from !== undefined && size >= from;
  let offset = resumed ? from : 0;
  ftruncateSync(fd, offset);
  let buffered: string[] = [];
  let bufferedBytes = 0;
  const flush = () => {
    if (buffered.length === 0) return;
    const chunk = Buffer.from(buffered.join(''));
    let written = 0;
    while (written < chunk.length)
      written += writeSync(fd, chunk, written, chunk.length - written, offset + written);
    offset += chunk.length;
    buffered = [];
    bufferedBytes = 0;
  };
  return {
    resumed,
    append(line) {
      const text = `${JSON.stringify(line)}\n`;
      buffered.push(text);
      bufferedBytes += text.length;
      if (bufferedBytes >= FLUSH_BYTES) flush();
    },
    commit() {
      flush();
      fsyncSync(fd);
      return offset;
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

/**
 * The records of an NDJSON file from line `skip + 1` on, each with its line number. A line that
 * is not a record is an error naming the file's line (the input that named the file is `input`).
 */
export async function* readRecords(
  path: string,
  skip = 0,
  input = '/records',
): AsyncGenerator<{ line: number; record: RecordLine }> {
  if (!existsSync(path))
    throw new TaskError('records_missing', `${input}: no records file at ${path}`, {
      hint: "name the source's records file: its task's artifacts: must list it, and this task need it",
    });
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const text of lines) {
    number++;
    if (number <= skip || text.trim() === '') continue;
    yield { line: number, record: parseRecord(text, number, input) };
  }
}

function parseRecord(text: string, line: number, input: string): RecordLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TaskError('records_invalid', `${input}: line ${line} is not JSON`);
  }
  const r = value as Partial<RecordLine> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    typeof r.stream !== 'string' ||
    r.data === null ||
    typeof r.data !== 'object' ||
    Array.isArray(r.data)
  )
    throw new TaskError(
      'records_invalid',
      `${input}: line ${line} is not a record ({ stream, data, emitted_at })`,
    );
  return { stream: r.stream, data: r.data, emitted_at: typeof r.emitted_at === 'number' ? r.emitted_at : 0 };
}
