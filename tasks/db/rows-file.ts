// The rows of the last statement as a workspace file: JSON (an array of objects) or CSV.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Execution } from './statements.ts';

export function writeRows(
  file: string,
  done: Pick<Execution, 'rows' | 'columns'>,
  format: 'json' | 'csv',
): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, format === 'json' ? `${JSON.stringify(done.rows, null, 2)}\n` : toCsv(done));
}

/**
 * RFC 4180 CSV: a header of the column names, CRLF line ends, a field quoted when it holds a
 * quote, comma or line break (quotes doubled). Written here because it is these ten lines; NULL
 * is the empty field, objects (json columns) their JSON, dates their ISO form.
 */
export function toCsv({ rows, columns }: Pick<Execution, 'rows' | 'columns'>): string {
  const lines = [columns.map(field), ...rows.map((row) => columns.map((c) => field(row[c])))];
  return lines.map((cells) => `${cells.join(',')}\r\n`).join('');
}

function field(value: unknown): string {
  const text =
    value === null || value === undefined
      ? ''
      : value instanceof Date
        ? value.toISOString()
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
