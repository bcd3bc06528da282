/**
 * The image gate of a runtime whose runners file has an `imagePolicy` (docs/supply-chain.md):
 * the policy parsed (keys and trust roots read relative to the runners file), a registry client
 * with the runner host's registry credentials (Docker's auth file and credential helpers),
 * and every image decision appended to the decision log the policy gate writes (the same chain),
 * so `maestro policy log` and disclosure archives show image decisions beside policy ones.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError, type ImageGate } from '../core/index.ts';
import type { AsyncStore } from '../engine/index.ts';
import type { DecisionLog } from '../policy/index.ts';
import {
  createImageGate,
  createRegistryClient,
  dockerConfigCredentials,
  parseImagePolicy,
  type RegistryClient,
} from '../provenance/index.ts';
import { openPolicyLog, type DecisionLogSetting } from './open-policy.ts';
import type { RunnersSetting } from './runtime-config.ts';

export interface OpenedImageGate {
  gate: ImageGate | undefined;
  /** The policy's plain-HTTP registries (besides loopback), for the runtime's other registry reads. */
  insecureRegistries: string[];
  /**
   * The registry client with the runner host's credentials, made on first use: the gate's own,
   * shared with the runtime's other registry reads (built-image SBOMs), so there is one
   * credential cache and one token per registry scope, not one per reader.
   */
  registry(): RegistryClient;
  /**
   * Opens the decision log now (the runtime calls it once its store is open, before any run):
   * on SQLite opening it may move an older `decisions.db` in, which needs no batch open.
   */
  openLog(): Promise<void>;
  close(): Promise<void>;
}

/** A registry client with the host's credentials (Docker's or Podman's auth file and helpers). */
function hostRegistryClient(setting: RunnersSetting, insecureRegistries: string[]): RegistryClient {
  return createRegistryClient({
    insecureRegistries,
    ...(setting.registryAuthFile
      ? {
          credentialsFor: dockerConfigCredentials({
            file: setting.registryAuthFile,
            env: setting.registryHelperEnv ?? {},
          }),
        }
      : {}),
  });
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * `store`: the engine's store, opened after the runners (a bad runners file fails before anything
 * is opened); the log, in its database on SQLite, is opened at the first image decision.
 */
export async function openImageGate(
  setting: RunnersSetting,
  logSetting: DecisionLogSetting,
  store: () => AsyncStore,
): Promise<OpenedImageGate> {
  if (setting.imagePolicy === undefined)
    return {
      gate: undefined,
      insecureRegistries: [],
      registry: once(() => hostRegistryClient(setting, [])),
      openLog: async () => undefined,
      close: async () => undefined,
    };
  const where = setting.file ?? 'runners configuration';
  const base = dirname(setting.file ?? '.');
  let policy;
  try {
    policy = parseImagePolicy(setting.imagePolicy, {
      read: (path) => readFileSync(resolve(base, path), 'utf8'),
    });
  } catch (error) {
    throw new InputError('image_policy_invalid', `${where}: ${(error as Error).message}`, {
      hint: 'see docs/supply-chain.md, "The image policy"',
    });
  }
  let log: Promise<DecisionLog> | undefined;
  const opened = () => (log ??= openPolicyLog(logSetting, store()));
  const registry = once(() => hostRegistryClient(setting, policy.insecureRegistries));
  const gate = createImageGate({
    policy,
    client: registry(),
    record: async (decision) => {
      await (await opened()).append(decision);
    },
  });
  const close = async () => {
    if (log) await (await log.catch(() => undefined))?.close();
  };
  const openLog = async () => {
    await opened();
  };
  return { gate, insecureRegistries: policy.insecureRegistries, registry, openLog, close };
}
