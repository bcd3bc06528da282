/**
 * One attempt's log, streaming from GET /v1/runs/{id}/logs (follow=true) until the run ends;
 * the same URL replays a finished attempt's log from the store. Lines are rendered as text
 * nodes, never as HTML: a task's output is the task's, and markup in it must stay text
 * (test/console/console-browser.test.ts writes a <script> line and an <img onerror> line).
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiBody } from '../../core/index.ts';

export function LogView(props: { runId: string; task: string; attempt: number; onClose: () => void }) {
  const [lines, setLines] = useState<(ApiBody.LogEvent & { id: string })[]>([]);
  const [ended, setEnded] = useState<string | null>(null);
  useEffect(() => {
    setLines([]);
    setEnded(null);
    const query = new URLSearchParams({ task: props.task, attempt: String(props.attempt), follow: 'true' });
    const source = new EventSource(`/v1/runs/${encodeURIComponent(props.runId)}/logs?${query}`);
    source.addEventListener('log', (message: MessageEvent<string>) => {
      const line = JSON.parse(message.data) as ApiBody.LogEvent;
      setLines((all) => [...all, { ...line, id: message.lastEventId }]);
    });
    source.addEventListener('end', (message: MessageEvent<string>) => {
      setEnded((JSON.parse(message.data) as ApiBody.LogEnd).status);
      source.close();
    });
    return () => source.close();
  }, [props.runId, props.task, props.attempt]);
  return (
    <section class="log" aria-labelledby="log-heading">
      <h2 id="log-heading">
        Log of {props.task}, attempt {props.attempt}
      </h2>
      <p role="status" class="log-state">
        {ended ? `run ${ended}; ${lines.length} lines` : `following… ${lines.length} lines`}
      </p>
      <pre class="log-text" tabIndex={0} aria-label={`log of ${props.task}`}>
        {lines.map((line) => (
          <span key={line.id} class={`line ${line.stream}`}>
            {line.text}
            {'\n'}
          </span>
        ))}
      </pre>
      <button type="button" onClick={props.onClose}>
        Close log
      </button>
    </section>
  );
}
