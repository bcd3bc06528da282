/**
 * The one parser of a task's outputs file ($MAESTRO_OUTPUT; the termination message on
 * Kubernetes), in the form GitHub Actions uses for $GITHUB_OUTPUT: `key=value` lines, and
 * `key<<DELIMITER` followed by lines up to a line that is exactly DELIMITER (a multi-line value).
 * Whichever of `=` and `<<` comes first decides the form; a later key wins. When `declared` names
 * any outputs, only those are kept. Problems never fail the attempt here; they come back as
 * messages for the attempt's log.
 */
export interface ParsedOutputs {
  outputs: Record<string, string>;
  problems: string[];
}

export function parseOutputsFile(text: string, declared: readonly string[] = []): ParsedOutputs {
  const outputs: Record<string, string> = {};
  const problems: string[] = [];
  const keep = (key: string, value: string) => {
    if (declared.length === 0 || declared.includes(key)) outputs[key] = value;
  };
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq > 0 && (heredoc === -1 || eq < heredoc)) {
      keep(line.slice(0, eq), line.slice(eq + 1));
      continue;
    }
    if (heredoc > 0) {
      const key = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (delimiter === '') {
        problems.push(`output line ${i + 1}: "${key}<<" has no delimiter`);
        continue;
      }
      const end = lines.indexOf(delimiter, i + 1);
      if (end === -1) {
        problems.push(`output line ${i + 1}: no line "${delimiter}" closes the value of "${key}"`);
        break;
      }
      keep(key, lines.slice(i + 1, end).join('\n'));
      i = end;
      continue;
    }
    problems.push(`output line ${i + 1}: expected key=value or key<<DELIMITER`);
  }
  return { outputs, problems };
}
