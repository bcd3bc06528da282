/**
 * Run duration over time for one workflow, on the runs list when it is filtered to a workflow:
 * the workflow's last finished runs (GET /v1/runs?workflow=&namespace=&status=succeeded,failed,
 * the public API), each a point at its start time and duration, succeeded in green and failed
 * in red. Drawn as SVG (at most CHART_RUNS points: no need for a canvas); the same figures as a
 * table under **Durations as a table**, for a screen reader.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiBody } from '../../core/index.ts';
import { call, type RunPage } from './api.ts';
import { duration, when } from './format.ts';

const CHART_RUNS = 100;
const W = 800;
const H = 220;
const PAD = 40;

interface Point {
  run: ApiBody.RunSummary;
  at: number;
  ms: number;
}

function pointsOf(runs: ApiBody.RunSummary[]): Point[] {
  return runs
    .filter((r) => r.startedAt && r.finishedAt)
    .map((run) => ({
      run,
      at: Date.parse(run.startedAt!),
      ms: Date.parse(run.finishedAt!) - Date.parse(run.startedAt!),
    }))
    .sort((a, b) => a.at - b.at);
}

export function DurationChart(props: {
  workflow: string;
  namespace: string | null;
  onProblem: (e: unknown) => void;
}) {
  const [points, setPoints] = useState<Point[] | null>(null);
  useEffect(() => {
    const query = new URLSearchParams({
      workflow: props.workflow,
      status: 'succeeded,failed',
      limit: String(CHART_RUNS),
    });
    if (props.namespace) query.set('namespace', props.namespace);
    let live = true;
    call<RunPage>('GET', `/v1/runs?${query}`).then(
      (page) => live && setPoints(pointsOf(page.items)),
      props.onProblem,
    );
    return () => void (live = false);
  }, [props.workflow, props.namespace]);
  if (points === null || points.length === 0) return null;
  const first = points[0]!.at;
  const span = Math.max(1, points.at(-1)!.at - first);
  const longest = Math.max(1, ...points.map((p) => p.ms));
  const x = (p: Point) => PAD + ((W - 2 * PAD) * (p.at - first)) / span;
  const y = (p: Point) => H - PAD - ((H - 2 * PAD) * p.ms) / longest;
  const median = [...points].sort((a, b) => a.ms - b.ms)[points.length >> 1]!.ms;
  return (
    <section class="duration-chart" aria-labelledby="duration-title" data-testid="duration-chart">
      <h2 id="duration-title">Run duration over time: {props.workflow}</h2>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${points.length} finished runs of ${props.workflow}; median ${duration(new Date(0).toISOString(), new Date(median).toISOString())}, longest ${duration(new Date(0).toISOString(), new Date(longest).toISOString())}`}
      >
        <line x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} stroke="#57606a" />
        <line x1={PAD} y1={PAD} x2={PAD} y2={H - PAD} stroke="#57606a" />
        <text x={PAD - 4} y={PAD} text-anchor="end" font-size="12" fill="#1b1f24">
          {(longest / 1000).toFixed(1)} s
        </text>
        <text x={PAD - 4} y={H - PAD} text-anchor="end" font-size="12" fill="#1b1f24">
          0
        </text>
        <polyline points={points.map((p) => `${x(p)},${y(p)}`).join(' ')} fill="none" stroke="#9e9e9e" />
        {points.map((p) => (
          <circle
            cx={x(p)}
            cy={y(p)}
            r="4"
            fill={p.run.status === 'succeeded' ? '#2e7d32' : '#c62828'}
            data-run={p.run.id}
          />
        ))}
      </svg>
      <details>
        <summary>Durations as a table</summary>
        <table>
          <thead>
            <tr>
              {['Run', 'Started', 'Status', 'Duration'].map((h) => (
                <th scope="col">{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.run.id}>
                <td>{p.run.id.slice(0, 10)}</td>
                <td>{when(p.run.startedAt)}</td>
                <td>{p.run.status}</td>
                <td>{duration(p.run.startedAt, p.run.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
