// Rebuilds the default policy bundle (policy/default/bundle.tar.gz) from its Rego and data with the
// real `opa build -t wasm`. opa 1.22.2 writes byte-identical bundles for identical sources (fixed
// mtimes, sorted entries), so the committed bundle is reproducible: `--check` rebuilds into a
// temporary file and fails if the bytes (or, failing that, the policy digest) differ.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPolicyBundle, defaultBundlePath, defaultPolicyDir, findOpa } from '../policy/index.ts';

export async function buildDefaultPolicy(out = defaultBundlePath): Promise<{ path: string; digest: string }> {
  const opa = findOpa({ home: homedir(), path: process.env.PATH, explicit: process.env.MAESTRO_OPA });
  const built = await buildPolicyBundle({ opa, defaultDir: defaultPolicyDir, out });
  return { path: built.path, digest: built.digest };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--check')) {
    const dir = await mkdtemp(join(tmpdir(), 'maestro-policy-check-'));
    try {
      const fresh = await buildDefaultPolicy(join(dir, 'bundle.tar.gz'));
      const same = (await readFile(fresh.path)).equals(await readFile(defaultBundlePath));
      console.log(`${same ? 'identical' : 'DIFFERENT'}: rebuilt ${fresh.digest}`);
      process.exitCode = same ? 0 : 1;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    const built = await buildDefaultPolicy();
    console.log(`wrote ${built.path}\ndigest ${built.digest}`);
  }
}
