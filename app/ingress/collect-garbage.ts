import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps the garbage of bodies being read small. Node's HTTP parser copies every body chunk into a
 * fresh Buffer whose bytes live outside the JavaScript heap; V8 frees them only when it collects,
 * and it starts a collection for such memory only after about 64 MB has piled up. Six 20 MB bodies
 * arriving at once would so hold ~64 MB of dead chunks (measured: RSS with the bodies
 * safely on disk: +60 to +76 MB). Asking for a young-generation collection (a scavenge: it visits only live young
 * objects, well under a millisecond here) after every `everyBytes` read frees the chunks already
 * consumed, so what a burst of bodies costs in memory stays at about `everyBytes`.
 *
 * The collector is reached the way the `expose-gc` package does, through a flag and a fresh
 * context; where that is refused the nudge is a no-op and memory is still bounded, by V8's limit.
 */
export function createGarbageNudge(everyBytes: number): (bytes: number) => void {
  const collect = minorCollector();
  if (!collect) return () => {};
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    collect();
  };
}

function minorCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as ((options: { type: 'minor' }) => void) | undefined;
    return typeof gc === 'function' ? () => gc({ type: 'minor' }) : undefined;
  } catch {
    return undefined;
  }
}
