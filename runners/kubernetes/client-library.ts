import { createRequire } from 'node:module';
import type * as KubernetesClient from '@kubernetes/client-node';
import { InputError } from '../../core/index.ts';

const requireHere = createRequire(import.meta.url);

/**
 * The Kubernetes client library, loaded on first use instead of at import: it takes about half a
 * second to load, every `maestro` command imports runners/, and few of them start this runner.
 * Node 24 can require() this ESM package synchronously, so the runner's factory stays synchronous.
 * require() caches the module, so repeated calls cost a map lookup. The Action's bundle leaves it
 * out (scripts/build-action.ts): there, configuring this runner is refused with what to use instead.
 */
export function kubernetesClient(): typeof KubernetesClient {
  try {
    return requireHere('@kubernetes/client-node') as typeof KubernetesClient;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new InputError(
      'runner_unavailable',
      'the kubernetes runner is not part of this build (@kubernetes/client-node is not installed)',
      {
        hint: 'in the GitHub Action use the local or container runner; run Kubernetes tasks from the npm package, the image or `maestro server`',
      },
    );
  }
}
