/** User-controlled text stays text: no raw HTML (`<unit>` would vanish), no line breaks. */
export function inline(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/** Keeps a value inside its Markdown table cell. */
export function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}
