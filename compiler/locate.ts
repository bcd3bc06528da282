import type { Document, LineCounter, Node as YamlNode, Pair } from 'yaml';
import type { Diagnostic } from '../core/index.ts';
import { Code } from './codes.ts';
import { toDiagnostic, unescapePointer, type Finding } from './finding.ts';
import { yamlLibrary } from './libraries.ts';

/**
 * The slow path: re-reads the source with `yaml` keeping positions, only when there is something
 * to report. Turns findings (JSON pointers) into diagnostics (line/column ranges) and reports the
 * YAML errors `yaml` sees (syntax, duplicate keys, several documents) with their exact ranges.
 */
export interface Located {
  syntax: Finding[];
  place(finding: Finding, file: string | undefined): Diagnostic;
}

const yamlCodes: Partial<Record<string, Finding['code']>> = {
  DUPLICATE_KEY: Code.duplicateKey,
  MULTIPLE_DOCS: Code.multipleDocuments,
};

export function locate(text: string): Located {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lines = new LineCounter();
  let doc: Document.Parsed | undefined;
  const syntax: Finding[] = [];
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  } catch {
    // Only a pathological input (e.g. nesting deep enough to exhaust the stack) gets here.
    lineStarts(text, lines);
  }
  for (const error of doc?.errors ?? []) {
    const code = yamlCodes[error.code] ?? Code.yamlSyntax;
    syntax.push({
      code,
      severity: 'error',
      message:
        code === Code.duplicateKey
          ? `duplicate key ${JSON.stringify(keyText(text, error.pos[0]))}`
          : code === Code.multipleDocuments
            ? 'the file holds more than one YAML document'
            : firstLine(error.message),
      ...(code === Code.multipleDocuments ? { hint: 'put one manifest in each file' } : {}),
      ...(code === Code.duplicateKey
        ? { hint: 'a key may appear only once in a mapping; the later one would silently win' }
        : {}),
      pointer: '',
      offset: { start: error.pos[0], end: Math.max(error.pos[1], error.pos[0] + 1) },
    });
  }
  const position = (offset: number): { line: number; column: number } => {
    const p = lines.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, column: p.col };
  };
  return {
    syntax,
    place(finding, file) {
      const [start, end] = rangeOf(finding, doc, text);
      return toDiagnostic(finding, position(start), position(end), file);
    },
  };
}

function keyText(text: string, start: number): string {
  const match = /^[^:\n]{1,200}/.exec(text.slice(start, start + 200));
  return (match?.[0] ?? '').trim().replace(/^["']|["']$/g, '');
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function lineStarts(text: string, lines: LineCounter): void {
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
}

function rangeOf(finding: Finding, doc: Document.Parsed | undefined, text: string): [number, number] {
  if (finding.offset) return [finding.offset.start, finding.offset.end];
  if (!doc) return [0, 0];
  const { isCollection, isScalar } = yamlLibrary();
  const { node, key } = resolvePointer(doc, unescapePointer(finding.pointer));
  if (finding.onKey && key?.range) return [key.range[0], key.range[1]];
  if (!node?.range) return key?.range ? [key.range[0], key.range[1]] : [0, 0];
  const [start, valueEnd] = node.range;
  if (finding.span && isScalar(node)) {
    let at = start;
    for (let k = 0; k <= finding.span.occurrence; k++) {
      const found = text.indexOf(finding.span.text, k === 0 ? at : at + 1);
      if (found === -1 || found >= valueEnd) return [start, valueEnd];
      at = found;
    }
    return [at, at + finding.span.text.length];
  }
  if (isCollection(node)) {
    // A whole mapping spans many lines; underline its first line only.
    const eol = text.indexOf('\n', start);
    return [start, eol === -1 || eol > valueEnd ? valueEnd : eol];
  }
  return [start, valueEnd];
}

/** The deepest node the pointer reaches, and the key of the pair holding it. */
function resolvePointer(
  doc: Document.Parsed,
  tokens: string[],
): { node: YamlNode | null | undefined; key: YamlNode | undefined } {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yamlLibrary();
  let node = doc.contents as YamlNode | null;
  let key: YamlNode | undefined;
  for (const token of tokens) {
    if (isAlias(node)) node = (node.resolve(doc) as YamlNode | undefined) ?? null;
    if (isMap(node)) {
      const pair = node.items.find(
        (p: Pair) => isPair(p) && isScalar(p.key) && String(p.key.value) === token,
      ) as Pair<YamlNode, YamlNode | null> | undefined;
      if (!pair) break;
      key = pair.key;
      node = pair.value ?? key;
    } else if (isSeq(node)) {
      const item = node.items[Number(token)] as YamlNode | undefined;
      if (item === undefined || !/^[0-9]+$/.test(token)) break;
      key = undefined;
      node = item;
    } else break;
  }
  return { node, key };
}
