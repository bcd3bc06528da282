import { createRequire } from 'node:module';
import type * as KubernetesClient from '@kubernetes/client-node';

const requireHere = createRequire(import.meta.url);

/**
 * The Kubernetes client library, loaded on first use instead of at import: it takes about half a
 * second to load, every `maestro` command imports runners/, and few of them start this runner.
 * Node 24 can require() this ESM package synchronously, so the runner's factory stays synchronous.
 * require() caches the module, so repeated calls cost a map lookup.
 */
export function kubernetesClient(): typeof KubernetesClient {
  return requireHere('@kubernetes/client-node') as typeof KubernetesClient;
}
