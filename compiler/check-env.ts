import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { pointerOf } from './finding.ts';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `MAESTRO_*` environment names belong to Maestro: what it hands a task (MAESTRO_INPUTS,
 * MAESTRO_OUTPUT, MAESTRO_ARTIFACTS, MAESTRO_SOURCE_*, MAESTRO_EXPR_<n>) and what policy decides
 * for it (MAESTRO_EGRESS_ALLOWED_HOSTS). A manifest that set one could stand in for the engine:
 * widen a task's egress allow-list where policy gave none, or point it at another outputs file.
 */
/**
 * `MAESTRO_` in any case, without an upper-case copy of every name. Only a non-ASCII name takes
 * `toUpperCase` (`ſ` and the `ﬆ` ligature upper-case to ASCII letters, which `/i` does not fold).
 */
const reservedAscii = /^maestro_/i;
const nonAscii = /[^ -~\t]/; // anything outside printable ASCII (and tab) takes the slow, exact path
const isReserved = (name: string): boolean =>
  reservedAscii.test(name) || (nonAscii.test(name) && name.toUpperCase().startsWith('MAESTRO_'));

export function checkReservedEnv(manifest: unknown): Finding[] {
  const spec = isRecord(manifest) && isRecord(manifest.spec) ? manifest.spec : undefined;
  if (!spec) return [];
  const findings: Finding[] = [];
  const check = (env: unknown, ...at: (string | number)[]) => {
    if (!isRecord(env)) return;
    for (const name of Object.keys(env))
      if (isReserved(name))
        findings.push({
          code: Code.reservedEnv,
          severity: 'error',
          message: `env \`${name}\` is reserved: MAESTRO_* variables are set by Maestro, never by a manifest`,
          hint: 'rename the variable; a task reads what Maestro gives it from MAESTRO_INPUTS, MAESTRO_ARTIFACTS and the like',
          pointer: pointerOf(...at, name),
        });
  };
  if (isRecord(spec.defaults)) check(spec.defaults.env, 'spec', 'defaults', 'env');
  if (Array.isArray(spec.tasks))
    spec.tasks.forEach((task, index) => isRecord(task) && check(task.env, 'spec', 'tasks', index, 'env'));
  return findings;
}
