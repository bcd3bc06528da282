/**
 * The worker side of `createWorkerPdp`: one PDP (one wasm instance) per worker, evaluating the
 * inputs the gate posts. Runs on its own thread so the caller can terminate it mid-evaluation.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PolicyBundle } from '../bundle/read-bundle.ts';
import { createPdp, type PdpOptions } from './create-pdp.ts';

interface Init {
  bundle: PolicyBundle;
  options: Omit<PdpOptions, 'now'>;
}

const init = workerData as Init;
const port = parentPort;
if (port) {
  try {
    const pdp = await createPdp(init.bundle, init.options);
    port.on('message', (message: { id: number; input: unknown }) => {
      port.postMessage({ id: message.id, result: pdp.evaluate(message.input) });
    });
    port.postMessage({ ready: true });
  } catch (error) {
    port.postMessage({ ready: false, error: (error as Error).message ?? String(error) });
  }
}
