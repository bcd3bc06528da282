import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { OpaNotFoundError } from '../errors.ts';

export interface FindOpaOptions {
  /** The user's home directory (scripts/setup/opa.sh installs into ~/.cache/maestro/bin). */
  home: string;
  /** The PATH to search last. */
  path?: string;
  /** An explicit binary (e.g. from MAESTRO_OPA), tried first. */
  explicit?: string;
}

/**
 * Where `opa` is: explicit, then ~/.cache/maestro/bin/opa (scripts/setup/opa.sh), then
 * ~/go/bin/opa (a plain `go install`), then PATH. Throws OpaNotFoundError naming the setup script.
 */
export function findOpa(options: FindOpaOptions): string {
  const candidates = [
    ...(options.explicit ? [options.explicit] : []),
    join(options.home, '.cache/maestro/bin/opa'),
    join(options.home, 'go/bin/opa'),
    ...(options.path ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'opa')),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next place
    }
  }
  throw new OpaNotFoundError(candidates);
}
