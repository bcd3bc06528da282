import { PolicyBuildError } from '../errors.ts';

/**
 * How a repository's `.maestro/policy/config.json` combines with the default configuration
 * (data.maestro.config). The rule of thumb: a repository may narrow or re-state what it is allowed
 * to use, and may add to what is sensitive, but can never switch a protection off.
 *
 * - replace: the repository's list replaces the default one (its own allow-lists).
 * - union:   the repository's entries are added to the default ones (more sensitive, never less).
 * - only-true: the repository may set it to true; false is refused.
 */
const modes: Record<string, 'replace' | 'union' | 'only-true'> = {
  allowed_licenses: 'replace',
  allowed_hosts: 'replace',
  sensitive_tasks: 'union',
  sensitive_namespaces: 'union',
  sensitive_labels: 'union',
  http_tasks: 'union',
  require_known_hosts: 'only-true',
};

export function mergeConfig(
  base: Record<string, unknown>,
  repo: Record<string, unknown>,
  file: string,
): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(repo)) {
    const mode = modes[key];
    if (!mode)
      throw new PolicyBuildError(`${file}: unknown key ${JSON.stringify(key)}`, {
        hint: `known keys: ${Object.keys(modes).join(', ')}`,
      });
    if (mode === 'only-true') {
      if (value !== true)
        throw new PolicyBuildError(`${file}: ${key} can only be set to true by a repository`);
      merged[key] = true;
      continue;
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      throw new PolicyBuildError(`${file}: ${key} must be a list of strings`);
    const current = Array.isArray(base[key]) ? (base[key] as string[]) : [];
    merged[key] = mode === 'replace' ? [...value] : [...new Set([...current, ...value])];
  }
  return merged;
}
