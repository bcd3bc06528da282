import type { Tracer } from '@opentelemetry/api';
import type { Probot } from 'probot';
import type { Logger } from 'pino';
import type { Clock } from '../../core/index.ts';
import {
  CronScheduler,
  type FireOutcome,
  type ScheduledWorkflow,
  type ScheduleStore,
  type SlotToFire,
} from '../../engine/index.ts';
import type { Engines } from '../dispatch/dispatch-runs.ts';
import type { AppServices } from '../events/app-services.ts';
import { traceScheduledSlot } from '../delivery-trace.ts';
import { dispatchAtBranchHead, readBranchHead } from '../events/pull-dispatch.ts';
import type { GitHubClient, Octokit } from '../github/github-client.ts';
import { plansByWorkflow } from '../source/compile-snapshot.ts';

export interface AppScheduleOptions {
  /** How often the scheduler looks (default 15 s). */
  intervalMs?: number;
  /** How long a claim stays its process's before another may complete it (default 60 s). */
  leaseMs?: number;
  /** How long a listing of installations, repositories and default-branch heads is reused (default 60 s). */
  refreshMs?: number;
  /** Start the loop (default true; tests drive `tick()` themselves). */
  start?: boolean;
}

interface RepoTarget {
  owner: string;
  repo: string;
  installationId: number;
  defaultBranch: string;
  /** Where git serves it (`clone_url`): the scheduled run's source. */
  cloneUrl?: string;
}

/** The actor scheduled runs are recorded with (the engine's `actor`; no person started them). */
export const SCHEDULE_ACTOR = 'maestro[schedule]';

/**
 * The App's wiring of engine/schedules: the source lists, for every installation and repository,
 * the workflows whose default-branch manifests have `triggers.schedule`; firing re-reads the
 * default branch's current head, compiles it, and dispatches that plan through the same path as
 * a push (trusted engine, idempotent by `schedule:<repo>:<slot>` and the claim's run id, the
 * default branch's gate rules). Claims live in the App's SQLite file.
 */
export function createAppScheduler(options: {
  probot: Probot;
  services: AppServices;
  engines: Engines;
  store: ScheduleStore;
  clock: Clock;
  logger: Logger;
  settings: AppScheduleOptions;
  /** The runtime's tracer: each fired slot is the root of its run's trace. */
  tracer: Tracer;
}): CronScheduler {
  const { probot, services, engines } = options;
  const targets = new Map<string, RepoTarget>();
  let listed: { at: number; workflows: ScheduledWorkflow[] } | undefined;
  const refreshMs = options.settings.refreshMs ?? 60_000;
  const clientOf = (t: RepoTarget) => services.clientOf(t.owner, t.repo, t.installationId);

  const listScheduled = async (): Promise<ScheduledWorkflow[]> => {
    const now = options.clock.now();
    if (listed && now - listed.at < refreshMs) return listed.workflows;
    const workflows: ScheduledWorkflow[] = [];
    for (const target of await listRepositories(probot, services)) {
      targets.set(`${target.owner}/${target.repo}`, target);
      try {
        const { compiled } = await headOf(services, clientOf(target), target.defaultBranch);
        for (const [workflow, { plan }] of plansByWorkflow(compiled))
          if (plan.triggers.schedule?.length)
            workflows.push({
              scope: `${target.owner}/${target.repo}`,
              workflow,
              schedules: plan.triggers.schedule,
            });
      } catch (error) {
        // One unreadable repository must not stop the others' schedules.
        options.logger.warn(
          { err: error, repo: `${target.owner}/${target.repo}` },
          'schedules: repository not read',
        );
      }
    }
    listed = { at: now, workflows };
    return workflows;
  };

  const fireUntraced = async (slot: SlotToFire): Promise<FireOutcome> => {
    const target = targets.get(slot.scope);
    if (!target) return { skipped: `the App has no installation for ${slot.scope} any more` };
    const client = clientOf(target);
    // The default branch's current manifest, read now: a schedule runs what is merged.
    const { sha, compiled } = await headOf(services, client, target.defaultBranch);
    const entry = plansByWorkflow(compiled).get(slot.workflow);
    if (!entry?.plan.triggers.schedule?.length)
      return { skipped: `${slot.workflow} has no schedule at ${target.defaultBranch} (${sha}) any more` };
    const outcome = await dispatchAtBranchHead(services, client, engines, {
      workflow: slot.workflow,
      plan: entry.plan,
      compiled,
      sha,
      branch: target.defaultBranch,
      cloneUrl: target.cloneUrl,
      trigger: 'schedule',
      actor: SCHEDULE_ACTOR,
      key: `schedule:${slot.scope}:${new Date(slot.slotMs).toISOString()}`,
      runId: slot.runId,
    });
    return 'runId' in outcome ? outcome : { skipped: outcome.refused };
  };
  const fire = (slot: SlotToFire) =>
    traceScheduledSlot(options.tracer, slot, async (span) => {
      const outcome = await fireUntraced(slot);
      if ('skipped' in outcome) span.setAttribute('maestro.schedule.skipped', outcome.skipped);
      return outcome;
    });

  return new CronScheduler({
    source: { listScheduled },
    store: options.store,
    fire,
    clock: options.clock,
    logger: options.logger.child({ name: 'schedules' }),
    tracer: options.tracer,
    ...(options.settings.intervalMs !== undefined ? { intervalMs: options.settings.intervalMs } : {}),
    ...(options.settings.leaseMs !== undefined ? { leaseMs: options.settings.leaseMs } : {}),
  });
}

async function headOf(services: AppServices, client: GitHubClient, branch: string) {
  const sha = await readBranchHead(client, branch);
  return { sha, compiled: (await services.commitAt(client, sha)).compiled };
}

/** Every repository of every installation of the App (app JWT, then each installation's token). */
async function listRepositories(probot: Probot, services: AppServices): Promise<RepoTarget[]> {
  const app = (await probot.auth()) as Octokit;
  const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
  const targets: RepoTarget[] = [];
  for (const installation of installations) {
    const account = (installation.account as { login?: string } | null)?.login ?? '';
    // A client for the installation (no repository yet): its retry policy and token renewal.
    const client = services.clientOf(account, '', installation.id);
    const repos = await client.call('list installation repositories', (octokit) =>
      octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 }),
    );
    for (const repo of repos as unknown as {
      name: string;
      owner: { login: string };
      default_branch: string;
      clone_url?: string;
    }[])
      targets.push({
        owner: repo.owner.login,
        repo: repo.name,
        installationId: installation.id,
        defaultBranch: repo.default_branch,
        ...(repo.clone_url ? { cloneUrl: repo.clone_url } : {}),
      });
  }
  return targets;
}
