import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The version in the package's own package.json, for `maestro --version`. Found by walking up
 * from this module: in a checkout it is one folder up, in an installed package (dist/cli/) two.
 */
export function packageVersion(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'summit-maestro' && manifest.version) return manifest.version;
    } catch {
      // no package.json here (or not ours): keep walking up
    }
    if (dirname(dir) === dir) return '0.0.0-unknown';
  }
}
