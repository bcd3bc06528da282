/**
 * A run at `/runs/<id>`: its tasks with state, reason, attempts and durations, each attempt's log,
 * the policy decisions each attempt was let through by, the receipts to download, and the retry
 * and cancel buttons when the session's scopes and namespaces allow them (hidden otherwise; the
 * server refuses them anyway).
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiBody } from '../../core/index.ts';
import { call, may, type Session } from './api.ts';
import { duration, when } from './format.ts';
import { useThrottled, useLiveEvents } from './live.ts';
import { LiveStates } from './live-states.ts';
import { DagView, useCriticalPath, useRunGraph } from './dag-view.tsx';
import { LogView } from './log-view.tsx';
import { Tasks } from './tasks-table.tsx';
import { Waterfall, waterfallRows } from './waterfall.tsx';
import { verifyReceipt, type Verdict } from './receipt-verify.ts';
import { Link } from './router.tsx';

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];
const RETRYABLE = ['failed', 'cancelled', 'timed_out'];

export function RunDetail(props: { id: string; session: Session; onProblem: (e: unknown) => void }) {
  const [linked] = useState(() => linkedAttempt(location.search));
  const [detail, setDetail] = useState<ApiBody.RunDetail | null>(null);
  const [log, setLog] = useState<{ task: string; attempt: number } | null>(linked.log);
  const [busy, setBusy] = useState('');
  const [selected, setSelected] = useState<string | null>(linked.task);
  const path = `/v1/runs/${encodeURIComponent(props.id)}`;
  const live = useMemo(() => new LiveStates(), [props.id]);
  const load = useCallback(async () => {
    const upTo = live.mark();
    try {
      const answer = await call<ApiBody.RunDetail>('GET', path);
      live.settle(upTo);
      setDetail(answer);
    } catch (e) {
      props.onProblem(e);
    }
  }, [path, live]);
  useEffect(() => void load(), [load]);
  // A large run's answer is large: reloaded less often, its boxes recoloured by the events.
  const reload = useThrottled(() => void load(), Math.max(250, (detail?.tasks.length ?? 0) / 5));
  const namespace = detail?.run.namespace;
  useLiveEvents(
    namespace,
    (event) => {
      if (event !== null && event.run !== props.id) return;
      if (event?.task) live.apply(event.task, event.to);
      reload();
    },
    namespace !== undefined,
  );
  // Asked for with the run, not after it: the layout is the plan's and the run id names it.
  const graph = useRunGraph(props.id, props.onProblem);
  const critical = useCriticalPath(graph, detail?.tasks ?? []);
  const decisions = useDecisions(props.id, detail, props.onProblem);
  if (!detail) return <p role="status">Loading…</p>;
  const { run } = detail;
  const act = async (verb: 'retry' | 'cancel' | 'approvals', task?: string) => {
    setBusy(verb);
    try {
      if (verb === 'approvals') {
        // A task's approval (`uses: tasks/approval@1`) or the run's own gate.
        const to = task === undefined ? path : `${path}/tasks/${encodeURIComponent(task)}`;
        await call<ApiBody.ApprovalAnswer>('POST', `${to}/approvals`);
        await load();
      } else if (task !== undefined)
        setDetail(await call<ApiBody.RunDetail>('POST', `${path}/retry?task=${encodeURIComponent(task)}`));
      else setDetail(await call<ApiBody.RunDetail>('POST', `${path}/${verb}`));
    } catch (e) {
      props.onProblem(e);
    } finally {
      setBusy('');
    }
  };
  const canWrite = may(props.session, 'runs:write', run.namespace);
  const mayApprove =
    run.status === 'waiting_for_approval' && may(props.session, 'approvals:write', run.namespace);
  // Parked on approval tasks: each is approved on its own; the run-level grant would be refused.
  const waitingTasks = detail.tasks.filter((t) => t.state === 'waiting_for_approval').map((t) => t.id);
  const canApprove = mayApprove && waitingTasks.length === 0;
  return (
    <>
      <p>
        <Link href="/">← All runs</Link>
      </p>
      <h1>
        Run <code>{run.id}</code>
      </h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <span class={`status ${run.status}`} data-testid="run-status">
            {run.status}
          </span>{' '}
          ({run.reason})
        </dd>
        <dt>Workflow</dt>
        <dd>
          {run.namespace}/{run.workflow}
        </dd>
        <dt>Trigger</dt>
        <dd>
          {run.trigger} by {run.actor}
        </dd>
        <dt>Commit</dt>
        <dd>
          <code>{run.commit ?? 'none'}</code>
        </dd>
        <dt>Started</dt>
        <dd>{when(run.startedAt ?? run.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{duration(run.startedAt, run.finishedAt)}</dd>
        <dt>Trace</dt>
        <dd>
          <code data-testid="run-trace-id">{detail.traceId ?? 'none'}</code>
        </dd>
      </dl>
      {canWrite && (
        <div class="actions">
          {RETRYABLE.includes(run.status) && (
            <button type="button" disabled={busy !== ''} onClick={() => void act('retry')}>
              Retry failed tasks
            </button>
          )}
          {!TERMINAL.includes(run.status) && (
            <button type="button" disabled={busy !== ''} onClick={() => void act('cancel')}>
              Cancel run
            </button>
          )}
        </div>
      )}
      {canApprove && (
        <div class="actions">
          <button type="button" disabled={busy !== ''} onClick={() => void act('approvals')}>
            Approve run
          </button>
        </div>
      )}
      {mayApprove && waitingTasks.length > 0 && (
        <div class="actions">
          {waitingTasks.map((id) => (
            <button key={id} type="button" disabled={busy !== ''} onClick={() => void act('approvals', id)}>
              Approve task {id}
            </button>
          ))}
        </div>
      )}
      <Approvals approvals={detail.approvals ?? []} />
      {graph && (
        <DagView
          graph={graph}
          tasks={detail.tasks}
          live={live}
          critical={critical}
          selected={selected}
          onSelect={setSelected}
          canRetry={canWrite && TERMINAL.includes(run.status) && busy === ''}
          onRetryTask={(task) => void act('retry', task)}
          onLog={(task, attempt) => setLog({ task, attempt })}
        />
      )}
      {graph && (
        <Waterfall
          rows={waterfallRows(
            critical,
            graph,
            new Map(detail.tasks.map((t) => [t.id, t])),
            Date.parse(run.startedAt ?? run.createdAt),
          )}
        />
      )}
      <p>
        <Link href={`/?${new URLSearchParams({ workflow: run.workflow, namespace: run.namespace })}`}>
          Duration of {run.workflow}’s runs over time
        </Link>
      </p>
      <Tasks
        tasks={detail.tasks}
        decisions={decisions}
        critical={new Set(critical.tasks)}
        onSelect={graph ? setSelected : undefined}
        onLog={(task, attempt) => setLog({ task, attempt })}
      />
      {log && <LogView runId={run.id} task={log.task} attempt={log.attempt} onClose={() => setLog(null)} />}
      <Receipts runId={run.id} receipts={detail.receipts} onProblem={props.onProblem} />
    </>
  );
}

/**
 * `?task=<id>[&attempt=<n>]`, the link an attempt's span carries as
 * `cicd.pipeline.task.run.url.full` (MAESTRO_PUBLIC_URL): that task selected (shown in the graph,
 * its fan-out expanded) and, with an attempt, that attempt's log open.
 */
function linkedAttempt(search: string): {
  task: string | null;
  log: { task: string; attempt: number } | null;
} {
  const params = new URLSearchParams(search);
  const task = params.get('task');
  if (!task) return { task: null, log: null };
  const attempt = Number(params.get('attempt') ?? '');
  return { task, log: Number.isSafeInteger(attempt) && attempt >= 1 ? { task, attempt } : null };
}

/**
 * The run's policy decisions with their reasons, by task, fetched again when its attempts have
 * new ones or a task was blocked (a blocked task has a decision and no attempt).
 */
function useDecisions(
  runId: string,
  detail: ApiBody.RunDetail | null,
  onProblem: (e: unknown) => void,
): ReadonlyMap<string, ApiBody.PolicyDecision[]> {
  const [decisions, setDecisions] = useState<ReadonlyMap<string, ApiBody.PolicyDecision[]>>(new Map());
  let count = 0;
  for (const t of detail?.tasks ?? []) {
    for (const a of t.attempts) count += a.policyDecisionIds.length;
    if (t.state === 'blocked_by_policy') count += 1;
  }
  useEffect(() => {
    if (count === 0) return;
    let live = true;
    call<ApiBody.PolicyDecisionList>('GET', `/v1/runs/${encodeURIComponent(runId)}/decisions`).then(
      (list) => {
        const byTask = new Map<string, ApiBody.PolicyDecision[]>();
        for (const d of list.items) byTask.set(d.task, [...(byTask.get(d.task) ?? []), d]);
        if (live) setDecisions(byTask);
      },
      onProblem,
    );
    return () => void (live = false);
  }, [runId, count]);
  return decisions;
}

function Approvals(props: { approvals: ApiBody.Approval[] }) {
  if (!props.approvals.length) return null;
  return (
    <table class="approvals">
      <caption>Approvals (each signed by the server, bound to this run)</caption>
      <thead>
        <tr>
          {['Approver', 'Approved', 'Plan digest', 'Commit', 'Attestation'].map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.approvals.map((a) => (
          <tr key={a.digest} data-approver={a.approver}>
            <td>{a.approver}</td>
            <td>{when(a.approvedAt)}</td>
            <td>
              <code>{a.planDigest.slice(0, 19)}</code>
            </td>
            <td>
              <code>{a.sourceSha ? a.sourceSha.slice(0, 12) : 'none'}</code>
            </td>
            <td>
              <code>{a.digest.slice(0, 19)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

async function download(runId: string, receipt: ApiBody.ReceiptDigest): Promise<void> {
  const query = receipt.task === null ? '' : `?task=${encodeURIComponent(receipt.task)}`;
  const all = await call<ApiBody.Receipt[]>('GET', `/v1/runs/${encodeURIComponent(runId)}/receipts${query}`);
  const match = all.find((r) => r.attempt === receipt.attempt && r.task === receipt.task);
  if (!match) throw new Error(`no receipt for ${receipt.task ?? 'the run'} attempt ${receipt.attempt}`);
  const blob = new Blob([JSON.stringify(match.bundle, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `receipt-${runId}-${receipt.task ?? 'run'}-${receipt.attempt}.sigstore.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Each listed receipt's verdict, checked here against GET /v1/keys (never the server's say-so): its key, or its keyless identity and trust root. */
function useVerdicts(runId: string, receipts: ApiBody.ReceiptDigest[]): Record<string, Verdict> {
  const [verdicts, setVerdicts] = useState<Record<string, Verdict>>({});
  const wanted = receipts.map((r) => r.digest).join(',');
  useEffect(() => {
    if (!receipts.length) return;
    let live = true;
    void (async () => {
      const out: Record<string, Verdict> = {};
      try {
        const [keys, all] = await Promise.all([
          call<ApiBody.VerificationKeys>('GET', '/v1/keys'),
          call<ApiBody.Receipt[]>('GET', `/v1/runs/${encodeURIComponent(runId)}/receipts`),
        ]);
        for (const r of receipts) {
          const served = all.find((a) => a.attempt === r.attempt && a.task === r.task);
          out[r.digest] = served
            ? await verifyReceipt(served.bundle, keys, r.digest)
            : { state: 'failed', reason: 'the receipt could not be downloaded' };
        }
      } catch (e) {
        for (const r of receipts)
          out[r.digest] = { state: 'failed', reason: `cannot check: ${(e as Error).message}` };
      }
      if (live) setVerdicts(out);
    })();
    return () => {
      live = false;
    };
  }, [runId, wanted]);
  return verdicts;
}

function VerdictCell(props: { verdict: Verdict | undefined }) {
  const v = props.verdict;
  if (!v) return <span>checking…</span>;
  if (v.state === 'verified' && v.keyid === undefined)
    return (
      <span class="verdict verified">
        Verified: signed keyless by <code>{v.identity}</code> (issuer {v.issuer}), under{' '}
        {v.trustedRootSource === 'bundled'
          ? "Sigstore public good's trust root"
          : "the operator's trust root"}
      </span>
    );
  if (v.state === 'verified')
    return (
      <span class="verdict verified">
        Verified: signed by <code>{v.keyid.slice(0, 19)}</code>
        {v.development ? ' (development key: not for production trust)' : ''}
      </span>
    );
  return (
    <span class={`verdict ${v.state}`}>
      {v.state === 'failed' ? 'Not verified: ' : 'Not checked here: '}
      {v.reason}
    </span>
  );
}

function Receipts(props: {
  runId: string;
  receipts: ApiBody.ReceiptDigest[];
  onProblem: (e: unknown) => void;
}) {
  const verdicts = useVerdicts(props.runId, props.receipts);
  if (!props.receipts.length) return <p>No receipts yet.</p>;
  return (
    <table class="receipts">
      <caption>Receipts (Sigstore bundles, one per attempt, verified in this browser)</caption>
      <thead>
        <tr>
          {['Task', 'Attempt', 'Digest', 'Verification', 'Download'].map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.receipts.map((r) => (
          <tr key={r.digest} data-receipt={`${r.task ?? ''}#${r.attempt}`}>
            <td>{r.task ?? '(run)'}</td>
            <td>{r.attempt}</td>
            <td>
              <code>{r.digest.slice(0, 19)}</code>
            </td>
            <td>
              <VerdictCell verdict={verdicts[r.digest]} />
            </td>
            <td>
              <button
                type="button"
                class="link"
                onClick={() => void download(props.runId, r).catch(props.onProblem)}
              >
                Download receipt of {r.task ?? 'the run'} attempt {r.attempt}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
