/** Lines longer than this are shown as a window around the column (a minified file is one line). */
const MAX_SHOWN = 160;
/** Characters kept before the column when a long line is cut. */
const CONTEXT_BEFORE = 40;

/**
 * The compiler-style excerpt under a diagnostic: the source line with its number, then a caret
 * under the start column and tildes up to the end column when the span stays on that line.
 * Columns are 1-based; `endColumn` points one past the last character (as the compiler emits).
 */
export function renderSourceExcerpt(
  source: string,
  position: { line: number; column: number; endLine: number; endColumn: number },
): string[] {
  const text = lineAt(source, position.line);
  if (text === undefined) return [];
  const number = String(position.line);
  const gutter = ' '.repeat(number.length);
  // Tabs are shown as single spaces so the caret lines up whatever the terminal's tab width.
  const full = text.replace(/\t/g, ' ');
  const start = Math.max(1, Math.min(position.column, full.length + 1));
  const end =
    position.endLine === position.line && position.endColumn > start
      ? Math.min(position.endColumn, full.length + 1)
      : start + 1;
  const { shown, offset } = windowOf(full, start);
  const caretAt = start - offset;
  const width = Math.max(1, Math.min(end - start, shown.length + 2 - caretAt));
  const marker = '^' + '~'.repeat(width - 1);
  return [` ${number} | ${shown}`, ` ${gutter} | ${' '.repeat(caretAt - 1)}${marker}`];
}

/** The line without splitting the whole source (which may be megabytes). */
function lineAt(source: string, line: number): string | undefined {
  let at = 0;
  for (let n = 1; n < line; n++) {
    const next = source.indexOf('\n', at);
    if (next === -1) return undefined;
    at = next + 1;
  }
  if (at > source.length) return undefined;
  const eol = source.indexOf('\n', at);
  const text = source.slice(at, eol === -1 ? source.length : eol);
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/** A window of a long line around `column`, with `…` marking cuts; `offset` shifts the caret. */
function windowOf(full: string, column: number): { shown: string; offset: number } {
  if (full.length <= MAX_SHOWN) return { shown: full, offset: 0 };
  const from = Math.max(0, Math.min(column - 1 - CONTEXT_BEFORE, full.length - MAX_SHOWN));
  const to = from + MAX_SHOWN;
  const head = from > 0 ? '…' : '';
  const tail = to < full.length ? '…' : '';
  // The caret's column inside the shown text is (column - from), plus one for a leading `…`.
  return { shown: head + full.slice(from, to) + tail, offset: from - head.length };
}
