/**
 * The runs list at `/`: filters kept in the URL (so a view can be shared), keyset pages through
 * the API's cursor, and live updates from the event stream.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, type RunPage, type Session } from './api.ts';
import { duration, shortCommit, when } from './format.ts';
import { DurationChart } from './duration-chart.tsx';
import { useThrottled, useLiveEvents } from './live.ts';
import { Link, navigate } from './router.tsx';

const FILTERS = ['status', 'workflow', 'namespace', 'label', 'since', 'until'] as const;
const STATUSES = [
  'queued',
  'waiting_for_approval',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
];
const PAGE = 50;

export function RunsList(props: { session: Session; search: string; onProblem: (e: unknown) => void }) {
  const params = new URLSearchParams(props.search);
  const [page, setPage] = useState<RunPage | null>(null);
  const load = useCallback(async () => {
    const query = new URLSearchParams();
    for (const key of [...FILTERS, 'cursor'] as const) {
      const value = params.get(key);
      if (value) query.set(key, value);
    }
    query.set('limit', String(PAGE));
    try {
      setPage(await call<RunPage>('GET', `/v1/runs?${query}`));
    } catch (e) {
      props.onProblem(e);
    }
  }, [props.search]);
  useEffect(() => void load(), [load]);
  const reload = useThrottled(() => void load());
  useLiveEvents(params.get('namespace') ?? undefined, (event) => {
    if (event === null || event.task === null) reload();
  });
  const next = page?.nextCursor ? withParam(params, 'cursor', page.nextCursor) : null;
  return (
    <>
      <h1>Runs</h1>
      <Filters key={props.search} params={params} />
      {params.get('workflow') && (
        <DurationChart
          workflow={params.get('workflow')!}
          namespace={params.get('namespace')}
          onProblem={props.onProblem}
        />
      )}
      {page === null ? (
        <p role="status">Loading…</p>
      ) : (
        <table class="runs">
          <caption>{page.items.length ? `${page.items.length} runs, newest first` : 'No runs match'}</caption>
          <thead>
            <tr>
              {['Run', 'Status', 'Workflow', 'Namespace', 'Trigger', 'Commit', 'Started', 'Duration'].map(
                (h) => (
                  <th scope="col">{h}</th>
                ),
              )}
            </tr>
          </thead>
          <tbody>
            {page.items.map((run) => (
              <tr key={run.id} data-run={run.id}>
                <td>
                  <Link href={`/runs/${encodeURIComponent(run.id)}`}>{run.id.slice(0, 10)}</Link>
                </td>
                <td>
                  <span class={`status ${run.status}`}>{run.status}</span>
                </td>
                <td>{run.workflow}</td>
                <td>{run.namespace}</td>
                <td>{run.trigger}</td>
                <td>
                  <code>{shortCommit(run.commit)}</code>
                </td>
                <td>{when(run.startedAt ?? run.createdAt)}</td>
                <td>{duration(run.startedAt, run.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages" class="pages">
        {params.get('cursor') && <Link href={`/?${withParam(params, 'cursor', null)}`}>Newest runs</Link>}
        {next && <Link href={`/?${next}`}>Older runs</Link>}
      </nav>
    </>
  );
}

function withParam(params: URLSearchParams, key: string, value: string | null): string {
  const copy = new URLSearchParams(params);
  if (value === null) copy.delete(key);
  else copy.set(key, value);
  return copy.toString();
}

function Filters(props: { params: URLSearchParams; key?: string }) {
  const value = (key: string) => props.params.get(key) ?? '';
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        const query = new URLSearchParams();
        for (const key of FILTERS) {
          const v = String(data.get(key) ?? '').trim();
          if (v) query.set(key, v);
        }
        navigate(`/${query.size ? `?${query}` : ''}`);
      }}
    >
      <label>
        Status
        <select name="status">
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option value={s} selected={value('status') === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Workflow
        <input name="workflow" defaultValue={value('workflow')} />
      </label>
      <label>
        Namespace
        <input name="namespace" defaultValue={value('namespace')} />
      </label>
      <label>
        Label
        <input name="label" defaultValue={value('label')} placeholder="team=data" />
      </label>
      <label>
        Since
        <input name="since" defaultValue={value('since')} placeholder="2026-12-01T00:00:00Z" />
      </label>
      <label>
        Until
        <input name="until" defaultValue={value('until')} placeholder="2026-12-02T00:00:00Z" />
      </label>
      <button type="submit">Apply filters</button>
    </form>
  );
}
