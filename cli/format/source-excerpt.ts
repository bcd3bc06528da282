/**
 * The compiler-style excerpt under a diagnostic: the source line with its number, then a caret
 * under the start column and tildes up to the end column when the span stays on that line.
 * Columns are 1-based; `endColumn` points one past the last character (as the compiler emits).
 */
export function renderSourceExcerpt(
  source: string,
  position: { line: number; column: number; endLine: number; endColumn: number },
): string[] {
  const lines = source.split(/\r?\n/);
  const text = lines[position.line - 1];
  if (text === undefined) return [];
  const number = String(position.line);
  const gutter = ' '.repeat(number.length);
  // Tabs are shown as single spaces so the caret lines up whatever the terminal's tab width.
  const shown = text.replace(/\t/g, ' ');
  const start = Math.max(1, Math.min(position.column, shown.length + 1));
  const end =
    position.endLine === position.line && position.endColumn > start
      ? Math.min(position.endColumn, shown.length + 1)
      : start + 1;
  const marker = '^' + '~'.repeat(Math.max(0, end - start - 1));
  return [` ${number} | ${shown}`, ` ${gutter} | ${' '.repeat(start - 1)}${marker}`];
}
