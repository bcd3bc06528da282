/**
 * Writes bytes that claim to be one object to a file, hashing them as they arrive: only when the
 * digest and size match is the file renamed into place (mode 0444, or 0555 for an executable).
 * Reading stops as soon as more bytes than the expected size arrive, so a tampered object cannot
 * fill the disk either. Shared by every ArtifactStore's `get`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ArtifactDigestMismatchError, type ArtifactObject } from './artifact-store.ts';

export async function writeVerified(
  source: AsyncIterable<Uint8Array>,
  expected: ArtifactObject,
  target: string,
  location: string,
  executable = false,
): Promise<void> {
  const tmp = join(dirname(target), `.get-${randomBytes(8).toString('hex')}`);
  const out = await open(tmp, 'wx', 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > expected.size) break;
      hash.update(chunk);
      await out.write(chunk);
    }
    await out.chmod(executable ? 0o555 : 0o444);
  } catch (error) {
    await out.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await out.close();
  const got = { digest: `sha256:${hash.digest('hex')}`, size };
  if (got.digest !== expected.digest || size !== expected.size) {
    await rm(tmp, { force: true });
    throw new ArtifactDigestMismatchError(
      location,
      expected,
      size > expected.size ? { ...got, digest: 'more bytes than expected' } : got,
    );
  }
  await rename(tmp, target);
}
