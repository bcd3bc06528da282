/**
 * The DAG's layout, computed once per plan digest and kept (GET /v1/runs/{id}/graph). Why on
 * the server and not in each browser: the layout depends on the plan alone, so every viewer of
 * every run of that plan shares one computation (tens of seconds at 5,000 tasks with elkjs,
 * where the browser's part is only drawing), and a script gets the same coordinates the console
 * draws. It is started when a workflow is stored (POST /v1/workflows), so the first viewer
 * finds it ready, and kept in the API store beside the workflow (`putPlanLayout`), so a
 * restarted server or another replica reads it back instead of laying the plan out again. In
 * front of the store, this process's memory, bounded (least recently used out).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ApiStore } from './api-store.ts';
import type { LayoutAnswer, LayoutRequest } from './layout-worker.ts';

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 32;
const DEFAULT_CAPACITY = 64;
/** Bumped when the layout's options or node size change: stored layouts of another version are not read. */
export const LAYOUT_VERSION = 1;

export interface PlanShape {
  digest: string;
  tasks: readonly { id: string; needs: readonly string[] }[];
}

export interface PlanLayouts {
  /** The plan's layout: from the cache, or laid out now (in a worker thread) and kept. */
  of(plan: PlanShape): Promise<LayoutAnswer>;
  /** Starts laying the plan out without waiting (a stored workflow); failures are logged. */
  warm(plan: PlanShape): void;
  /** Ends the layouts in progress (the server is closing). */
  close(): Promise<void>;
  /** How many layouts this process computed, and how many it read from the store. */
  stats(): { computed: number; fromStore: number };
}

export type LayoutStore = Pick<ApiStore, 'getPlanLayout' | 'putPlanLayout'>;

// The worker is TypeScript in the repository and JavaScript in the installed package.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './layout-worker.ts' : './layout-worker.js',
  import.meta.url,
);

function layOutInThread(plan: PlanShape, running: Set<Worker>): Promise<LayoutAnswer> {
  const request: LayoutRequest = {
    tasks: plan.tasks.map((t) => ({ id: t.id, needs: [...t.needs] })),
    nodeWidth: NODE_WIDTH,
    nodeHeight: NODE_HEIGHT,
  };
  return new Promise((resolve, reject) => {
    // elkjs recurses deeply on long chains: at 5,000 tasks it overflows the default 4 MB stack.
    const worker = new Worker(WORKER_URL, { resourceLimits: { stackSizeMb: 256 } });
    running.add(worker);
    worker.unref(); // a layout in progress never keeps the process alive
    const done = () => {
      running.delete(worker);
      void worker.terminate();
    };
    worker.once('message', (m: { ok: true; answer: LayoutAnswer } | { ok: false; message: string }) => {
      done();
      if (m.ok) resolve(m.answer);
      else reject(new Error(`the layout of plan ${plan.digest} failed: ${m.message}`));
    });
    worker.once('error', (error) => {
      done();
      reject(error);
    });
    worker.once('exit', (code) => {
      running.delete(worker);
      reject(new Error(`the layout worker of plan ${plan.digest} exited (${code})`));
    });
    worker.postMessage(request);
  });
}

export function createPlanLayouts(options: {
  logger: Logger;
  capacity?: number;
  /** Where layouts are kept across restarts (the API store); without it, memory only. */
  store?: LayoutStore;
}): PlanLayouts {
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  // Promises, so concurrent viewers of a plan being laid out wait for the one computation.
  const cache = new Map<string, Promise<LayoutAnswer>>();
  const running = new Set<Worker>();
  const counts = { computed: 0, fromStore: 0 };
  const compute = async (plan: PlanShape): Promise<LayoutAnswer> => {
    const stored = await options.store?.getPlanLayout(plan.digest, LAYOUT_VERSION);
    if (stored) {
      counts.fromStore += 1;
      return JSON.parse(stored.layout) as LayoutAnswer;
    }
    const started = Date.now();
    const answer = await layOutInThread(plan, running);
    counts.computed += 1;
    options.logger.info(
      { planDigest: plan.digest, tasks: plan.tasks.length, ms: Date.now() - started },
      'plan laid out',
    );
    // Kept for the next start; a failed write costs a later re-layout, not this answer.
    await options.store
      ?.putPlanLayout({
        planDigest: plan.digest,
        version: LAYOUT_VERSION,
        layout: JSON.stringify(answer),
        createdAt: Date.now(),
      })
      .catch((error: unknown) =>
        options.logger.warn({ err: error, planDigest: plan.digest }, 'storing the plan layout failed'),
      );
    return answer;
  };
  const of = (plan: PlanShape): Promise<LayoutAnswer> => {
    const hit = cache.get(plan.digest);
    if (hit) {
      cache.delete(plan.digest); // re-inserted: most recently used
      cache.set(plan.digest, hit);
      return hit;
    }
    const layout = compute(plan);
    // A failed layout is not kept: the next viewer tries again.
    layout.catch(() => cache.get(plan.digest) === layout && cache.delete(plan.digest));
    cache.set(plan.digest, layout);
    while (cache.size > capacity) cache.delete(cache.keys().next().value!);
    return layout;
  };
  return {
    of,
    warm(plan) {
      of(plan).catch((error: unknown) =>
        options.logger.warn({ err: error, planDigest: plan.digest }, 'plan layout failed'),
      );
    },
    async close() {
      await Promise.all([...running].map((w) => w.terminate()));
      running.clear();
    },
    stats: () => ({ ...counts }),
  };
}
