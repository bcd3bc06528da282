// A blueprint's workflow with its parameters put in. Parameters are data, never code:
//  - `${blueprint.x}` as a whole string becomes x's value with its type (a number, a list, an
//    object: `approvals: ${blueprint.environment.approvals}`); inside a longer string, its text;
//  - every `${` inside a value is written `$${` (a literal), so a value cannot become an
//    expression (`${secrets.DEPLOY_KEY}`) once it sits in the blueprint's tasks;
//  - a `run` script never takes a parameter (MS5006): a script reads one through `env`, where
//    it is a shell variable's value, so a parameter cannot inject shell code.
import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { pointerOf } from '../finding.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const placeholder = /\$\{\s*blueprint\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}/g;
const whole = /^\$\{\s*blueprint\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}$/;

/** A problem inside the blueprint: where in its file (a pointer into it), and what. */
export interface BlueprintProblem {
  code: Finding['code'];
  pointer: string;
  message: string;
}

/** The workflow with every placeholder replaced; `absent` (an unset optional parameter) drops the key. */
export function instantiate(workflow: Rec, params: Rec): { value: Rec; problems: BlueprintProblem[] } {
  const problems: BlueprintProblem[] = [];
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') return substitute(value, path);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i])).filter((v) => v !== absent);
    if (isRecord(value)) {
      const out: Rec = {};
      for (const [k, v] of Object.entries(value)) {
        const next = walk(v, [...path, k]);
        if (next !== absent) out[k] = next;
      }
      return out;
    }
    return value;
  };
  const substitute = (text: string, path: (string | number)[]): unknown => {
    if (!text.includes('blueprint.')) return text;
    const at = pointerOf('spec', 'workflow', ...path);
    if (path.length === 3 && path[0] === 'tasks' && path[2] === 'run' && placeholder.test(text)) {
      placeholder.lastIndex = 0;
      problems.push({
        code: Code.blueprintScriptParameter,
        pointer: at,
        message: 'a parameter is put into a `run` script',
      });
      return text.replace(placeholder, ''); // reported once, not again as an unknown reference
    }
    placeholder.lastIndex = 0;
    const one = whole.exec(text);
    if (one) {
      const found = lookup(params, one[1] as string);
      return found === undefined ? absent : escapeDeep(found);
    }
    return text.replace(placeholder, (_m, name: string) => {
      const found = lookup(params, name);
      if (found === undefined) {
        problems.push({
          code: Code.blueprintInvalid,
          pointer: at,
          message: `\`blueprint.${name}\` has no value here`,
        });
        return '';
      }
      return escapeText(typeof found === 'string' ? found : JSON.stringify(found));
    });
  };
  return { value: walk(workflow, []) as Rec, problems };
}

const absent = Symbol('absent');

function lookup(params: Rec, path: string): unknown {
  let value: unknown = params;
  for (const token of path.split('.')) {
    if (!isRecord(value) || !Object.hasOwn(value, token)) return undefined;
    value = value[token];
  }
  return value;
}

/** `${` in data is the literal `$${`: the engine renders it as text, never as an expression. */
function escapeText(text: string): string {
  // A function, not the string '$${': in a replacement string `$$` means one `$`.
  return text.replaceAll('${', () => '$${');
}

function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeText(value);
  if (Array.isArray(value)) return value.map(escapeDeep);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v)]));
  return value;
}

/** The parameters with the defaults of the schema's top-level properties filled in. */
export function withDefaults(schema: Rec, given: Rec): Rec {
  const out: Rec = { ...given };
  const properties = isRecord(schema.properties) ? schema.properties : {};
  for (const [name, property] of Object.entries(properties))
    if (!(name in out) && isRecord(property) && 'default' in property) out[name] = property.default;
  return out;
}
