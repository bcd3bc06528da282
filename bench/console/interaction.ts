/**
 * bench/console's interaction measurements, on a run page whose DAG is drawn:
 *  - panZoomFps: for `ms`, every animation frame the page dispatches a wheel zoom or an arrow-key
 *    pan to the canvas (the handlers a person's input reaches), and counts the frames the browser
 *    produced (requestAnimationFrame callbacks) and the canvas draws. Target >= 50 frames a second.
 *  - stateUpdates: writes `perSecond` task transitions a second for `seconds` into the server's
 *    store (as the engine would), and reads back how many the page applied to the canvas
 *    (`data-updates`), how long after the last write it had them all, the frames it kept drawing
 *    meanwhile, how often it fetched the graph (once: a state change never fetches the layout)
 *    and how many layouts the server computed meanwhile (none).
 */
import type { Page } from 'playwright-core';
import type { ApiHarness } from '../../test/api/api-harness.ts';

export interface Fps {
  fps: number;
  drawsPerSecond: number;
  longestFrameMs: number;
}

export async function panZoomFps(page: Page, ms: number): Promise<Fps> {
  return page.evaluate(async (duration) => {
    // In the page, typed here without the DOM library.
    type Canvas = {
      dataset: Record<string, string>;
      dispatchEvent(e: unknown): void;
      getBoundingClientRect(): { left: number; top: number; width: number; height: number };
      focus(): void;
    };
    const g = globalThis as unknown as {
      document: { querySelector(s: string): Canvas };
      requestAnimationFrame(f: (now: number) => void): void;
      WheelEvent: new (type: string, init: object) => unknown;
      KeyboardEvent: new (type: string, init: object) => unknown;
    };
    const canvas = g.document.querySelector('[data-testid="dag"]');
    canvas.focus();
    const r = canvas.getBoundingClientRect();
    const draws0 = Number(canvas.dataset.draws);
    const keys = ['ArrowLeft', 'ArrowUp', 'ArrowRight', 'ArrowDown'];
    let frames = 0;
    let longest = 0;
    let start = 0;
    let last = 0;
    await new Promise<void>((resolve) => {
      const tick = (now: number) => {
        if (!start) start = last = now;
        longest = Math.max(longest, now - last);
        last = now;
        if (now - start >= duration) return resolve();
        frames += 1;
        // Zoom in and out around a wandering point, and pan, on alternate frames.
        if (frames % 2)
          canvas.dispatchEvent(
            new g.WheelEvent('wheel', {
              deltaY: Math.sin(now / 600) > 0 ? -40 : 40,
              clientX: r.left + r.width * (0.5 + 0.3 * Math.sin(now / 900)),
              clientY: r.top + r.height / 2,
              bubbles: true,
              cancelable: true,
            }),
          );
        else
          canvas.dispatchEvent(
            new g.KeyboardEvent('keydown', { key: keys[(frames >> 4) % 4], bubbles: true, cancelable: true }),
          );
        g.requestAnimationFrame(tick);
      };
      g.requestAnimationFrame(tick);
    });
    const seconds = (last - start) / 1000;
    return {
      fps: frames / seconds,
      drawsPerSecond: (Number(canvas.dataset.draws) - draws0) / seconds,
      longestFrameMs: longest,
    };
  }, ms);
}

export interface UpdateCost {
  written: number;
  applied: number;
  /** From the last write until the page had applied every event. */
  catchUpMs: number;
  fps: number;
  graphFetches: number;
  layoutsComputed: number;
}

async function pageCounts(page: Page) {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      document: { querySelector(s: string): { dataset: Record<string, string> } };
    };
    return {
      updates: Number(g.document.querySelector('[data-testid="dag"]').dataset.updates ?? 0),
      graphFetches: performance
        .getEntriesByType('resource')
        .filter((e) => /\/v1\/runs\/[^/]+\/graph$/.test(new URL(e.name).pathname)).length,
    };
  });
}

/** Counts animation frames in the page until stopped (the returned function). */
async function countFrames(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const g = globalThis as unknown as {
      requestAnimationFrame(f: (now: number) => void): void;
      benchFrames: { n: number; start: number; stop: boolean; end: number };
    };
    g.benchFrames = { n: 0, start: performance.now(), stop: false, end: 0 };
    const tick = (now: number) => {
      if (g.benchFrames.stop) return;
      g.benchFrames.n += 1;
      g.benchFrames.end = now;
      g.requestAnimationFrame(tick);
    };
    g.requestAnimationFrame(tick);
  });
  return () =>
    page.evaluate(() => {
      const f = (
        globalThis as unknown as { benchFrames: { n: number; start: number; end: number; stop: boolean } }
      ).benchFrames;
      f.stop = true;
      return (f.n / (f.end - f.start)) * 1000;
    });
}

/** Where each task of the run is now, and the next to flip (kept across calls). */
export interface Flips {
  states: Map<string, 'queued' | 'ready'>;
  next: number;
}

/** Each task flips between queued and ready, one transition at a time, in plan order. */
export async function stateUpdates(
  page: Page,
  api: ApiHarness,
  run: string,
  flips: Flips,
  perSecond: number,
  seconds: number,
): Promise<UpdateCost> {
  const { states } = flips;
  const tasks = [...states.keys()];
  const before = await pageCounts(page);
  const computed = api.layouts.stats().computed;
  const stopFrames = await countFrames(page);
  const tick = 20; // ms: perSecond / 50 transitions per tick
  const perTick = Math.round((perSecond * tick) / 1000);
  const total = perSecond * seconds;
  const start = performance.now();
  let written = 0;
  while (written < total) {
    for (let i = 0; i < perTick && written < total; i++, written++) {
      const task = tasks[flips.next++ % tasks.length]!;
      const from = states.get(task)!;
      const to = from === 'queued' ? 'ready' : 'queued';
      await api.runtime.store.transitionTask(run, task, from, to, 'dependencies_met', 'bench', Date.now());
      states.set(task, to);
    }
    const due = start + (written / perSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const wroteAll = performance.now();
  let counts = await pageCounts(page);
  const deadline = wroteAll + 60_000;
  while (counts.updates - before.updates < total && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    counts = await pageCounts(page);
  }
  const catchUpMs = performance.now() - wroteAll;
  const fps = await stopFrames();
  return {
    written: total,
    applied: counts.updates - before.updates,
    catchUpMs,
    fps,
    graphFetches: counts.graphFetches,
    layoutsComputed: api.layouts.stats().computed - computed,
  };
}
