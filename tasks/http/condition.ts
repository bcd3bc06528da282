// The http task's success condition (`successWhen`): CEL (@marcbachmann/cel-js, the library the
// compiler's `when` and the `wait` task use) over the final response: `status` (int), `headers`
// (a map, names lower-cased), `body` (the text) and `json` (the body parsed, or null when it is
// not JSON). Checked against these types before anything is sent (a condition that does not
// compile, or is not a bool, is an input error naming `successWhen`). tasks/ may not import the
// compiler (layering), so the variables are declared here; JSON integers become CEL ints as the
// compiler's conversion makes them.
import { Environment } from '@marcbachmann/cel-js';

const env = new Environment()
  .registerVariable('status', 'int')
  .registerVariable('headers', 'map<string, string>')
  .registerVariable('body', 'string')
  .registerVariable('json', 'dyn');

/** Why the condition cannot be used (a syntax or type error, or not a bool), or undefined when it can. */
export function conditionProblem(cel: string): string | undefined {
  try {
    const checked = env.check(cel);
    if (!checked.valid) return firstLine(checked.error);
    if (checked.type !== 'bool' && checked.type !== 'dyn') return `it gives ${checked.type}, not a bool`;
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}

export interface Seen {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** The condition on a response: true or false, or a string saying why it could not be evaluated. */
export function evaluateCondition(cel: string, seen: Seen): boolean | string {
  const text = seen.body.toString('utf8');
  const headers: Record<string, string> = {};
  seen.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  try {
    const result: unknown = env.evaluate(cel, {
      status: BigInt(seen.status),
      headers,
      body: text,
      json: parseJson(text),
    });
    return typeof result === 'boolean' ? result : `it gave ${typeof result}, not a bool`;
  } catch (error) {
    return firstLine(error);
  }
}

/** The body as CEL values (integers as ints), or null when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (_key, value: unknown) =>
      typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value,
    ) as unknown;
  } catch {
    return null;
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
