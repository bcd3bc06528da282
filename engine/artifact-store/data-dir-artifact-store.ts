/**
 * The ArtifactStore over the data directory's content store (`<data-dir>/artifacts/sha256/`,
 * contentStoreDir), where the engine keeps every artifact: objects named by their hex digest
 * (`.x` for an executable, artifact-flow.ts). The engine links local tasks' artifacts from that
 * folder directly (cheaper than a copy); this port over it is what runs when no remote store is
 * configured, and the reference the S3 store is tested against.
 */
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { contentStoreDir } from '../artifact-flow.ts';
import { ArtifactStoreError, digestHex, type ArtifactObject, type ArtifactStore } from './artifact-store.ts';
import { writeVerified } from './verified-write.ts';

export function dataDirArtifactStore(dataDir: string): ArtifactStore {
  const root = contentStoreDir(dataDir);
  const location = `data dir ${root}`;
  const existing = (hex: string) => [join(root, hex), join(root, `${hex}.x`)].find((p) => existsSync(p));
  return {
    kind: 'data-dir',
    location,
    async put(object, file) {
      const hex = digestHex(object.digest);
      if (existing(hex)) return;
      await mkdir(root, { recursive: true });
      const tmp = join(root, `.tmp-${randomBytes(8).toString('hex')}`);
      try {
        await copyFile(file, tmp);
        await rename(tmp, join(root, hex));
      } finally {
        await rm(tmp, { force: true });
      }
    },
    async get(object: ArtifactObject, target, options = {}) {
      const found = existing(digestHex(object.digest));
      if (!found) throw new ArtifactStoreError(`${object.digest} is not in ${location}`);
      await writeVerified(createReadStream(found), object, target, location, options.executable);
    },
    close() {},
  };
}
