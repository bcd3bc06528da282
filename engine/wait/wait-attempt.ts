/**
 * The attempt of a `wait` task, once its durable timer (if any) has ended: no runner and no
 * process. A time-only wait succeeds at once (the waiting was the stored timer); one with a `url`
 * polls its HTTP condition in the engine (http-wait.ts). Either way a RunnerHandle, so the attempt
 * has its lease, log, cancel and receipt like any other.
 */
import {
  AttemptOutcome,
  describeError,
  resolveNetwork,
  type AttemptResult,
  type RunnerHandle,
} from '../../core/index.ts';
import { LogChannel } from '../../runners/index.ts';
import type { AttemptHost, AttemptInfo } from '../attempt-host.ts';
import { startHttpWait } from './http-wait.ts';
import { waitSpecOf } from './wait-spec.ts';

/**
 * A wait attempt's span attributes (set on its `maestro.attempt`): the durable timer that held
 * the task before the attempt (stored, so no process slept through it: the attempt span starts
 * when the timer ends), its length and end, and whether an HTTP condition is polled after it.
 */
export function waitSpanAttributes(
  inputs: Record<string, unknown>,
  waitedBefore: number,
  until: number | null,
): Record<string, string | number | boolean> {
  return {
    'maestro.wait.durable_timer': until !== null,
    'maestro.wait.timer_ms': waitedBefore,
    ...(until !== null ? { 'maestro.wait.until': new Date(until).toISOString() } : {}),
    'maestro.wait.condition': typeof inputs.url === 'string' ? 'http' : 'none',
  };
}

/** `waitedBefore`: how long the task's stored timer held it (its `notBefore` minus its ready time). */
export function waitHandle(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  waitedBefore: number,
): RunnerHandle {
  const { clock } = exec.ctx;
  let spec;
  try {
    spec = waitSpecOf(taskId, info.resolved.with);
  } catch (error) {
    return ended(clock.now(), `${describeError(error)}`, info, false);
  }
  if (spec.http) {
    // The poll leaves from the engine's host, not a sandbox: the runners' one network rule
    // applies (an untrusted run, or a task saying `network: none`, gets no network), fail closed.
    const plan = exec.planTask(taskId);
    const network = resolveNetwork({
      trust: exec.run.trust,
      ...(plan.network ? { network: plan.network } : {}),
    });
    if (network === 'none')
      return ended(
        clock.now(),
        `task ${taskId}: an HTTP condition needs the network, which this ${exec.run.trust === 'trusted' ? 'task (network: none)' : 'untrusted run'} does not have`,
        info,
        false,
      );
    const env: Record<string, string> = info.egressAllowedHosts
      ? { MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(info.egressAllowedHosts) }
      : {};
    return startHttpWait(spec.http, {
      clock,
      probe: exec.ctx.httpProbe,
      env,
      redact: info.redact,
      startedAt: info.startedAt,
      waitedBefore,
    });
  }
  return ended(
    clock.now(),
    `waited ${waitedBefore} ms on the engine's durable timer`,
    info,
    true,
    waitedBefore,
  );
}

function ended(now: number, text: string, info: AttemptInfo, ok: boolean, waitedMs = 0): RunnerHandle {
  const logs = new LogChannel();
  logs.push({ stream: 'system', text, time: now });
  logs.close();
  const result: Promise<AttemptResult> = Promise.resolve({
    outcome: ok ? AttemptOutcome.succeeded : AttemptOutcome.failed,
    exitCode: ok ? 0 : 2,
    retryable: false,
    ...(ok ? {} : { reason: 'invalid_wait', message: text }),
    outputs: ok ? { waitedMs: String(waitedMs) } : ({} as Record<string, string>),
    startedAt: info.startedAt,
    finishedAt: now,
    isolation: {
      sandbox: 'none' as const,
      network: 'none' as const,
      reason: 'an engine primitive: no task code runs',
    },
  });
  return { logs: () => logs, wait: () => result, cancel: async () => undefined };
}
