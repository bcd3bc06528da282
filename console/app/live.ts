/**
 * Live views: the server's event stream (GET /v1/events, with the session cookie) tells a page
 * that something changed, and the page reloads what it shows from the API (throttled), so the
 * view is always the API's answer, never a patch of it. `ready` also reloads: whatever changed
 * between the first load and the stream's start is not missed.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { ApiBody } from '../../core/index.ts';

export type StateEvent = ApiBody.StateEvent;

export function useLiveEvents(
  namespace: string | undefined,
  onChange: (event: StateEvent | null) => void,
  enabled = true,
): void {
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource(
      `/v1/events${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`,
    );
    const changed = (message: MessageEvent<string>) =>
      handler.current(JSON.parse(message.data) as StateEvent);
    source.addEventListener('run', changed);
    source.addEventListener('task', changed);
    source.addEventListener('ready', () => handler.current(null));
    source.addEventListener('end', () => source.close());
    return () => source.close();
  }, [namespace, enabled]);
}

/**
 * `fn`, called at most once per `ms`, and always once after the last request: a steady stream
 * of changes (a busy server) still reloads the view every `ms`, where a plain debounce would
 * wait for a quiet moment that never comes.
 */
export function useThrottled(fn: () => void, ms = 250): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    if (timer.current !== undefined) return; // one call is already due
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  };
}
