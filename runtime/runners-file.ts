/**
 * The operator's runners file (docs/runners.md): YAML or JSON, one section per runner kind of
 * RUNNER_FACTORIES. Its shape is checked here (each factory checks its values), so a misspelt
 * `containers:` is an error naming the file instead of a runner silently missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { yamlLibrary } from '../compiler/index.ts';
import { InputError, UsageError } from '../core/index.ts';
import { isMapping, RUNNER_FACTORIES } from '../runners/index.ts';

function invalid(file: string, message: string, hint?: string): InputError {
  return new InputError('runner_config_invalid', `${file}: ${message}`, hint ? { hint } : {});
}

/** The runners file's section holding the image policy. */
export const IMAGE_POLICY_KEY = 'imagePolicy';

export function readRunnersFile(file: string): Record<string, Record<string, unknown>> {
  if (!existsSync(file))
    throw new UsageError(`the runners config ${file} does not exist`, {
      hint: 'check --runners or MAESTRO_RUNNERS_CONFIG',
    });
  let doc: unknown;
  try {
    doc = yamlLibrary().parse(readFileSync(file, 'utf8')); // yaml loads only when the file exists
  } catch (error) {
    throw invalid(file, `not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const kinds = Object.keys(RUNNER_FACTORIES);
  const list = kinds.map((k) => `\`${k}\``).join(', ');
  if (!isMapping(doc)) throw invalid(file, `expected a mapping with sections ${list}`);
  // `imagePolicy` is not a runner: the container and Kubernetes runners share it (docs/supply-chain.md).
  for (const key of Object.keys(doc))
    if (!kinds.includes(key) && key !== IMAGE_POLICY_KEY)
      throw invalid(file, `unknown key \`${key}\``, `the sections are ${list} and ${IMAGE_POLICY_KEY}`);
  for (const [kind, section] of Object.entries(doc))
    if (!isMapping(section)) throw invalid(file, `\`${kind}\` must be a mapping`);
  return doc as Record<string, Record<string, unknown>>;
}
