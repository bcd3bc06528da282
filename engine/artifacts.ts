/** Artifact files of an attempt: listing with digests, and copying a cached attempt's files. */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { DigestedFile } from '../core/index.ts';

export function digestArtifacts(dir: string): DigestedFile[] {
  if (!existsSync(dir)) return [];
  const files: DigestedFile[] = [];
  const walk = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      const full = join(current, name);
      const stat = statSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile())
        files.push({
          path: relative(dir, full).split(sep).join('/'),
          digest: `sha256:${createHash('sha256').update(readFileSync(full)).digest('hex')}`,
          size: stat.size,
        });
    }
  };
  walk(dir);
  return files;
}

export function copyArtifacts(from: string, to: string): void {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}
