import { readFile } from 'node:fs/promises';
import { digestOf, sha256Digest } from '../../core/index.ts';
import { PolicyBundleError } from '../errors.ts';
import { untarGz } from './untar.ts';

/** The entrypoint every Maestro bundle is built with (policy/default/decision.rego). */
export const POLICY_ENTRYPOINT = 'maestro/policy/decision';

/** What the decision point evaluates: the compiled wasm and the data it runs against. */
export interface PolicyBundle {
  wasm: Uint8Array;
  data: Record<string, unknown>;
  /**
   * `digestOf({ wasm: sha256(policy.wasm), data })`: the digest of what is evaluated, independent
   * of tar/gzip packaging, so equal policies have equal digests however they were packed.
   */
  digest: string;
  /** Where it came from, for messages. */
  source: string;
}

export function bundleDigest(wasm: Uint8Array, data: unknown): string {
  return digestOf({ wasm: sha256Digest(wasm), data });
}

/** Parses the bytes of an `opa build -t wasm` bundle (bundle.tar.gz). */
export function readPolicyBundle(bytes: Uint8Array, source = 'bundle'): PolicyBundle {
  let files: Map<string, Uint8Array>;
  try {
    files = untarGz(bytes);
  } catch (error) {
    throw new PolicyBundleError(`${source} is not a gzip'd tar bundle: ${(error as Error).message}`, {
      cause: error,
      hint: 'rebuild it with `maestro policy build`',
    });
  }
  const wasm = files.get('policy.wasm');
  if (!wasm) throw new PolicyBundleError(`${source} has no policy.wasm (was it built with -t wasm?)`);
  let data: unknown = {};
  const dataBytes = files.get('data.json');
  if (dataBytes) {
    try {
      data = JSON.parse(new TextDecoder().decode(dataBytes));
    } catch (error) {
      throw new PolicyBundleError(`${source}: data.json is not valid JSON`, { cause: error });
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new PolicyBundleError(`${source}: data.json must hold a JSON object`);
  return { wasm, data: data as Record<string, unknown>, digest: bundleDigest(wasm, data), source };
}

export async function readPolicyBundleFile(path: string): Promise<PolicyBundle> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new PolicyBundleError(`cannot read policy bundle ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return readPolicyBundle(bytes, path);
}

/** policy/default/bundle.tar.gz, committed and reproducible by scripts/build-policy.ts. */
export const defaultBundlePath = new URL('../default/bundle.tar.gz', import.meta.url).pathname;
export const defaultPolicyDir = new URL('../default/', import.meta.url).pathname;

export function readDefaultBundle(): Promise<PolicyBundle> {
  return readPolicyBundleFile(defaultBundlePath);
}
