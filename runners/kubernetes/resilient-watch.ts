/**
 * A list-then-watch loop over one collection that survives interruptions: when the stream ends or
 * breaks it re-watches from the last resourceVersion it saw (bookmarks included); when the server
 * answers 410 Gone (the version was compacted away) it lists again and continues from the fresh
 * version. Every object it sees is handed to `onObject`; deletions to `onDeleted`.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { kubernetesClient } from './client-library.ts';
import type { Clock } from '../../core/index.ts';

export interface WatchStats {
  lists: number;
  watches: number;
  /** Re-lists caused by 410 Gone. */
  gone: number;
}

export interface ResilientWatchOptions<T> {
  kubeConfig: KubeConfig;
  clock: Clock;
  /** Collection path, e.g. /apis/batch/v1/namespaces/ns/jobs. */
  path: string;
  /** labelSelector / fieldSelector etc. */
  query: Record<string, string>;
  list: () => Promise<{ items: T[]; resourceVersion: string }>;
  onObject: (object: T) => void;
  onDeleted: (object: T) => void;
  /** Called with errors that are retried anyway (for a system log line). */
  onTrouble?: (message: string) => void;
  stats?: WatchStats;
}

interface WatchStatus {
  kind?: string;
  code?: number;
  metadata?: { resourceVersion?: string };
}

function isGone(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: number; message?: string } | null;
  return e?.statusCode === 410 || e?.code === 410 || /\b410\b|Gone/.test(String(e?.message ?? ''));
}

export class ResilientWatch<T extends { metadata?: { resourceVersion?: string } }> {
  readonly #options: ResilientWatchOptions<T>;
  readonly #stop = new AbortController();
  #current: AbortController | undefined;
  #resourceVersion: string | undefined;

  constructor(options: ResilientWatchOptions<T>) {
    this.#options = options;
  }

  /** Runs until `stop()`; never rejects. */
  async run(): Promise<void> {
    const o = this.#options;
    let backoff = 200;
    while (!this.#stop.signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) {
          const listed = await o.list();
          if (o.stats) o.stats.lists += 1;
          this.#resourceVersion = listed.resourceVersion;
          for (const item of listed.items) o.onObject(item);
        }
        const outcome = await this.#watchOnce();
        if (outcome === 'gone') {
          if (o.stats) o.stats.gone += 1;
          this.#resourceVersion = undefined;
        }
        backoff = 200;
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        if (isGone(error)) {
          if (o.stats) o.stats.gone += 1;
          this.#resourceVersion = undefined;
          continue;
        }
        o.onTrouble?.(`watch of ${o.path} failed, retrying: ${(error as Error).message}`);
        await o.clock.sleep(backoff, this.#stop.signal).catch(() => {});
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  stop(): void {
    this.#stop.abort();
    this.#current?.abort();
  }

  #watchOnce(): Promise<'closed' | 'gone'> {
    const o = this.#options;
    return new Promise((resolve, reject) => {
      let gone = false;
      const watch = new (kubernetesClient().Watch)(o.kubeConfig);
      if (o.stats) o.stats.watches += 1;
      watch
        .watch(
          o.path,
          {
            ...o.query,
            resourceVersion: this.#resourceVersion,
            allowWatchBookmarks: true,
            // The server closes the stream cleanly before the client's 30 s inactivity timer fires.
            timeoutSeconds: 25,
          },
          (type: string, object: T & WatchStatus) => {
            if (type === 'ERROR') {
              if (object?.code === 410) gone = true;
              return;
            }
            const rv = object?.metadata?.resourceVersion;
            if (rv) this.#resourceVersion = rv;
            if (type === 'BOOKMARK') return;
            if (type === 'DELETED') o.onDeleted(object);
            else o.onObject(object);
          },
          (error: unknown) => {
            this.#current = undefined;
            if (gone) resolve('gone');
            else if (error && !this.#stop.signal.aborted) reject(error);
            else resolve('closed');
          },
        )
        .then((controller) => {
          this.#current = controller;
          if (this.#stop.signal.aborted) controller.abort();
        }, reject);
    });
  }
}
