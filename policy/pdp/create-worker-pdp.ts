import { Worker } from 'node:worker_threads';
import { PolicyBundleError } from '../errors.ts';
import type { PolicyBundle } from '../bundle/read-bundle.ts';
import { DEFAULT_TIMEOUT_MS, unavailable, type PdpOptions, type PdpResult } from './create-pdp.ts';

export interface AsyncPdp {
  readonly digest: string;
  evaluate(input: unknown): Promise<PdpResult>;
  close(): Promise<void>;
}

// .ts in a checkout, .js in the installed package (compiled by scripts/build-package.ts).
const workerUrl = new URL(`./pdp-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * A PDP on a worker thread, with a hard deadline: when an evaluation overruns `timeoutMs`, the
 * worker is terminated (which interrupts the wasm call), the decision fails closed, and a fresh
 * worker (one new instance) serves the next call. Evaluations are serialized: one instance, one
 * input at a time. Costs a message round trip per decision (bench/policy/RESULTS.md).
 */
export async function createWorkerPdp(
  bundle: PolicyBundle,
  options: Omit<PdpOptions, 'now'> = {},
): Promise<AsyncPdp> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Inside the worker only the size bound, schema and memory cap apply; the deadline is ours.
  const workerOptions = { ...options, timeoutMs: Number.MAX_SAFE_INTEGER };
  let worker = await start(bundle, workerOptions);
  let queue: Promise<unknown> = Promise.resolve();
  let restart: Promise<void> = Promise.resolve();
  let next = 0;

  const evaluateOnce = (input: unknown): Promise<PdpResult> =>
    new Promise((resolve) => {
      const id = ++next;
      const current = worker;
      const timer = setTimeout(() => {
        current.off('message', onMessage);
        void current.terminate();
        // A fresh worker serves the next call; if it cannot start, the dead one stays and every
        // later call fails closed (postMessage to a terminated worker never answers: deadline).
        restart = start(bundle, workerOptions).then(
          (w) => void (worker = w),
          () => undefined,
        );
        resolve(unavailable(`evaluation exceeded the ${timeoutMs} ms deadline and was stopped`));
      }, timeoutMs);
      const onMessage = (message: { id?: number; result?: PdpResult }) => {
        if (message.id !== id || !message.result) return;
        clearTimeout(timer);
        current.off('message', onMessage);
        resolve(message.result);
      };
      current.on('message', onMessage);
      try {
        current.postMessage({ id, input });
      } catch (error) {
        clearTimeout(timer);
        current.off('message', onMessage);
        resolve(unavailable(`input cannot be sent to the policy worker: ${(error as Error).message}`));
      }
    });

  return {
    digest: bundle.digest,
    evaluate(input) {
      const run = queue.then(async () => {
        await restart;
        return evaluateOnce(input);
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await queue;
      await restart;
      await worker.terminate();
    },
  };
}

function start(bundle: PolicyBundle, options: Omit<PdpOptions, 'now'>): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: { bundle, options } });
    worker.unref();
    const fail = (error: unknown) => {
      void worker.terminate();
      reject(
        error instanceof PolicyBundleError
          ? error
          : new PolicyBundleError(`${bundle.source}: ${String(error)}`),
      );
    };
    worker.once('error', (error) => fail(error.message));
    worker.once('message', (message: { ready: boolean; error?: string }) => {
      if (!message.ready) return fail(message.error ?? 'the policy worker did not start');
      // A crash after start must not take the engine down: the pending decision then meets its
      // deadline, fails closed, and a fresh worker replaces this one.
      worker.on('error', () => undefined);
      resolve(worker);
    });
  });
}
