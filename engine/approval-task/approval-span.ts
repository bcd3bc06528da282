/**
 * The span of an approval task's gate, `maestro.approval`: from the task's move to
 * waiting_for_approval (its stored time) to its end (granted, or rejected by a timeout). The wait
 * holds no process and may end in another one (an API replica, the App, a sweep after a
 * restart), so the span is made whole when the gate ends, by the one writer whose
 * compare-and-set won, under the trace the run stores (`traceParent`): the run's trace, whichever
 * process settles it. Counts only, never who approved: reviewers' names are in the signed rows.
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { Reason } from '../../core/index.ts';
import type { RunRecord, TaskRecord } from '../store/store.ts';
import { contextOfTraceParent, runSpanAttributes } from '../trace-context.ts';

export interface ApprovalGateEnd {
  outcome: 'granted' | 'timed_out';
  required: number;
  /** Approvals that counted (verified) when it ended. */
  received: number;
  escalated: boolean;
  /** When it ended (the engine's clock). */
  at: number;
}

export function recordApprovalSpan(
  tracer: Tracer,
  run: RunRecord,
  task: TaskRecord,
  end: ApprovalGateEnd,
): void {
  const span = tracer.startSpan(
    'maestro.approval',
    {
      kind: SpanKind.INTERNAL,
      startTime: task.updatedAt,
      attributes: {
        ...runSpanAttributes(run.id, run.workflow),
        'maestro.task.id': task.taskId,
        'cicd.pipeline.task.name': task.taskId,
        'maestro.approval.required': end.required,
        'maestro.approval.received': end.received,
        'maestro.approval.escalated': end.escalated,
        'maestro.approval.outcome': end.outcome,
      },
    },
    contextOfTraceParent(run.traceParent),
  );
  if (end.outcome === 'timed_out') {
    span.setAttribute('error.type', Reason.approvalTimedOut);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end(end.at);
}
