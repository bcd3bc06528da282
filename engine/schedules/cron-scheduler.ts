import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import type { PlanSchedule } from '../../compiler/index.ts';
import type { Clock } from '../../core/index.ts';
import { traceParentOf } from '../trace-context.ts';
import { dueSlots, nextSlot } from './due-slots.ts';
import type { ScheduleStore, SlotClaim } from './schedule-store.ts';

/** A workflow with schedules, as the source (the App: the default branch's current manifests) lists it. */
export interface ScheduledWorkflow {
  scope: string;
  workflow: string;
  schedules: PlanSchedule[];
}

/** Port: which workflows have schedules now. */
export interface ScheduleSource {
  listScheduled(): Promise<ScheduledWorkflow[]>;
}

/** One claimed slot to dispatch, under the run id stored with its claim. */
export interface SlotToFire {
  scope: string;
  workflow: string;
  slotMs: number;
  runId: string;
  /** The `traceparent` of the scheduler pass firing it (`schedules tick`), for a span link. */
  tickTraceParent?: string;
}

/** `runId`: the run exists (new, or found again); `skipped`: nothing runs for this slot, and why. */
export type FireOutcome = { runId: string } | { skipped: string };

/**
 * Port: dispatch a claimed slot. Must be idempotent by `runId`: after a takeover it may be called
 * again for a slot whose previous owner got as far as creating the run.
 */
export type FireSlot = (slot: SlotToFire) => Promise<FireOutcome>;

export interface CronSchedulerOptions {
  source: ScheduleSource;
  store: ScheduleStore;
  fire: FireSlot;
  clock: Clock;
  /** How often to look (default 15 s); the loop also wakes at the next slot. */
  intervalMs?: number;
  /** A slot this old is still on time (default 60 s, at least twice the interval). */
  graceMs?: number;
  /** How long a claim stays its owner's before another process may complete it (default 60 s). */
  leaseMs?: number;
  /** Distinguishes this process's claims (default: host, pid and a random id). */
  owner?: string;
  newRunId?: () => string;
  logger?: Logger;
  tracer?: Tracer;
}

export interface TickReport {
  fired: SlotClaim[];
  skipped: SlotClaim[];
  /** Claims that failed to dispatch (left `claimed`: retried once their lease runs out). */
  failed: number;
}

/**
 * Fires `triggers.schedule` slots: each (scope, workflow, slot time) is claimed by an INSERT that
 * fails on conflict before anything is dispatched, so across restarts and replicas on one store
 * each slot runs once. The run id is stored with the claim; a claim left `claimed` (the process
 * stopped between claim and dispatch) is taken over once its lease runs out and dispatched under
 * that same id, so it is neither lost nor doubled. A workflow's watermark records what was
 * already considered: slots after it and up to now are due, with `catchUp` deciding which of
 * those older than the grace still run. A workflow seen for the first time has no missed slots.
 */
export class CronScheduler {
  readonly #o: Required<Omit<CronSchedulerOptions, 'owner' | 'newRunId' | 'logger' | 'tracer'>> & {
    owner: string;
    newRunId: () => string;
    logger: Logger;
    tracer: Tracer;
  };
  #loop: Promise<void> | undefined;
  #listed: ScheduledWorkflow[] = [];
  /** The current pass's span context, handed to each slot it fires (a link, not a parent). */
  #tick: string | undefined;
  readonly #stop = new AbortController();

  constructor(options: CronSchedulerOptions) {
    const intervalMs = options.intervalMs ?? 15_000;
    this.#o = {
      ...options,
      intervalMs,
      graceMs: Math.max(options.graceMs ?? 60_000, 2 * intervalMs),
      leaseMs: options.leaseMs ?? 60_000,
      owner: options.owner ?? `${hostname()}|${process.pid}|${randomUUID()}`,
      newRunId: options.newRunId ?? (() => `r-${randomUUID()}`),
      logger: options.logger ?? pino({ level: 'silent' }),
      tracer: options.tracer ?? trace.getTracer('summit-maestro-schedules'),
    };
  }

  /** One pass: complete expired claims, then claim and fire every due slot. */
  async tick(): Promise<TickReport> {
    return this.#o.tracer.startActiveSpan('schedules tick', async (span) => {
      this.#tick = traceParentOf(span);
      try {
        const report: TickReport = { fired: [], skipped: [], failed: 0 };
        const now = this.#o.clock.now();
        const listed = await this.#o.source.listScheduled();
        this.#listed = listed;
        const known = new Set(listed.map((w) => `${w.scope}\0${w.workflow}`));
        for (const stale of await this.#o.store.expired(now)) {
          const taken = await this.#o.store.takeOver(
            stale.scope,
            stale.workflow,
            stale.slotMs,
            this.#o.owner,
            now,
            now + this.#o.leaseMs,
          );
          if (!taken) continue;
          this.#o.logger.info({ ...slotLog(taken), previousOwner: stale.owner }, 'schedule claim taken over');
          if (!known.has(`${taken.scope}\0${taken.workflow}`))
            await this.#finish(report, taken, {
              skipped: 'the workflow has no schedule on the default branch any more',
            });
          else await this.#fire(report, taken);
        }
        for (const workflow of listed) await this.#claimDue(report, workflow, now);
        span.setAttributes({
          'maestro.schedules.fired': report.fired.length,
          'maestro.schedules.failed': report.failed,
        });
        return report;
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** Ticks now (catch-up on start), then at every interval or next slot, until stop(). */
  start(): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      while (!this.#stop.signal.aborted) {
        let next = this.#o.clock.now() + this.#o.intervalMs;
        try {
          await this.tick();
          next = Math.min(next, this.#nextSlot());
        } catch (error) {
          this.#o.logger.error({ err: error }, 'schedules tick failed');
        }
        if (this.#stop.signal.aborted) return;
        try {
          await this.#o.clock.sleep(Math.max(0, next - this.#o.clock.now()), this.#stop.signal);
        } catch {
          return;
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #claimDue(report: TickReport, listed: ScheduledWorkflow, now: number): Promise<void> {
    const { scope, workflow } = listed;
    const mark = await this.#o.store.watermark(scope, workflow);
    if (mark !== undefined) {
      const window = { afterMs: mark, nowMs: now, graceMs: this.#o.graceMs };
      const slots = [...new Set(listed.schedules.flatMap((s) => dueSlots(s, window)))].sort((a, b) => a - b);
      for (const slotMs of slots) {
        const claim = {
          scope,
          workflow,
          slotMs,
          runId: this.#o.newRunId(),
          owner: this.#o.owner,
          claimedAt: now,
          leaseUntil: now + this.#o.leaseMs,
        };
        // Claimed before anything is dispatched; a conflict means another process (or an earlier
        // life of this one) has this slot.
        if (!(await this.#o.store.claim(claim))) continue;
        await this.#fire(report, { ...claim, state: 'claimed' });
      }
    }
    await this.#o.store.advanceWatermark(scope, workflow, now);
  }

  async #fire(report: TickReport, claim: SlotClaim): Promise<void> {
    try {
      const outcome = await this.#o.fire({
        scope: claim.scope,
        workflow: claim.workflow,
        slotMs: claim.slotMs,
        runId: claim.runId,
        ...(this.#tick ? { tickTraceParent: this.#tick } : {}),
      });
      await this.#finish(report, claim, outcome);
    } catch (error) {
      report.failed += 1;
      this.#o.logger.error(
        { err: error, ...slotLog(claim) },
        'scheduled run not dispatched; retried after the lease',
      );
    }
  }

  async #finish(report: TickReport, claim: SlotClaim, outcome: FireOutcome): Promise<void> {
    if ('runId' in outcome) {
      await this.#o.store.finish(claim.scope, claim.workflow, claim.slotMs, this.#o.owner, 'fired');
      report.fired.push({ ...claim, state: 'fired' });
      this.#o.logger.info({ ...slotLog(claim), runId: outcome.runId }, 'scheduled run dispatched');
    } else {
      await this.#o.store.finish(
        claim.scope,
        claim.workflow,
        claim.slotMs,
        this.#o.owner,
        'skipped',
        outcome.skipped,
      );
      report.skipped.push({ ...claim, state: 'skipped', detail: outcome.skipped });
      this.#o.logger.info({ ...slotLog(claim), reason: outcome.skipped }, 'scheduled slot skipped');
    }
  }

  #nextSlot(): number {
    const now = this.#o.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const w of this.#listed)
      for (const s of w.schedules) next = Math.min(next, nextSlot(s, now) ?? next);
    return next;
  }
}

function slotLog(claim: SlotClaim) {
  return {
    scope: claim.scope,
    workflow: claim.workflow,
    slot: new Date(claim.slotMs).toISOString(),
    runId: claim.runId,
  };
}
