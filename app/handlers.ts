import type { Probot } from 'probot';
import type { Clock } from '../core/index.ts';
import type { ProvenanceSigner } from '../provenance/index.ts';
import type { AppStore } from './app-store.ts';
import { digestsOf, evaluateApprovalGate, type SensitivityCheck } from './approval-gate.ts';
import { writeCheckRun } from './check-runs.ts';
import {
  compileSnapshot,
  plansByWorkflow,
  type CompileFn,
  type CompiledManifest,
} from './compile-snapshot.ts';
import { dispatchWorkflow, startRun, type DispatchContext, type Engines } from './dispatch-runs.ts';
import { GitHubClient, type Octokit } from './github-client.ts';
import { Lru } from './lru.ts';
import { matchesRefFilter } from './match-trigger.ts';
import { readRepositorySnapshot, type RepositorySnapshot } from './read-repository.ts';
import { CANCEL_ACTION, RETRY_ACTION } from './render-run.ts';
import { renderValidate, VALIDATE_CHECK_NAME } from './render-validate.ts';
import type { RunReporter } from './run-reporter.ts';

export interface HandlerDeps {
  store: AppStore;
  compile: CompileFn;
  signer: ProvenanceSigner;
  engines: Engines | undefined;
  sensitive: SensitivityCheck;
  clock: Clock;
  runUpdateIntervalMs: number;
  /** GitHub client retry policy (tests shorten the backoff). */
  backoffMs: number;
  track: (reporter: RunReporter) => void;
  onError: (error: unknown) => void;
}

interface RepoPayload {
  installation?: { id: number };
  repository: { name: string; owner: { login: string }; full_name: string; default_branch: string };
}

const RUN_COMMAND = /^\/maestro\s+run\s+(\S+)\s*$/m;
const WRITE_PERMISSIONS = new Set(['admin', 'maintain', 'write']);

/**
 * Registers the app's webhook handlers on a Probot instance. Every handler re-reads what it
 * decides on (the pull request's current head, reviews, files at a SHA), so a late or repeated
 * event cannot make the app act on stale state.
 */
export interface RegisteredHandlers {
  /** An installation client for one repository (what a delivery would get), for work not triggered by one. */
  clientFor: (owner: string, repo: string, installationId: number) => GitHubClient;
  dispatchContext: (client: GitHubClient, engines: Engines) => DispatchContext;
}

export function registerHandlers(probot: Probot, deps: HandlerDeps): RegisteredHandlers {
  // One installation client per installation, reused across deliveries: the auth strategy keeps
  // its token cached and renews it before expiry; a refused token is replaced below.
  const octokits = new Map<number, Octokit>();
  // Content-addressed caches: git blobs by SHA, compile results by path and blob SHA.
  const blobs = new Lru<string>(2000);
  const compiledCache = new Lru<CompiledManifest>(2000);
  const snapshotAt = (client: GitHubClient, sha: string) => readRepositorySnapshot(client, sha, blobs);
  const compileAll = (snapshot: RepositorySnapshot) => compileSnapshot(snapshot, deps.compile, compiledCache);
  const clientFor = (payload: RepoPayload): GitHubClient => {
    const installationId = payload.installation?.id;
    if (installationId === undefined) throw new Error('the event carries no installation id');
    return clientOf(payload.repository.owner.login, payload.repository.name, installationId);
  };
  const clientOf = (owner: string, repo: string, installationId: number): GitHubClient => {
    return new GitHubClient({
      owner,
      repo,
      installationId,
      clock: deps.clock,
      backoffMs: deps.backoffMs,
      authenticate: async (fresh) => {
        if (!fresh) {
          const known = octokits.get(installationId);
          if (known) return known;
          const created = (await probot.auth(installationId)) as Octokit;
          octokits.set(installationId, created);
          return created;
        }
        // The cached token was refused (expired or revoked): mint a new one with the app's JWT and
        // use it for this installation from now on, until it too is refused.
        const app = (await probot.auth()) as Octokit;
        const minted = await app.rest.apps.createInstallationAccessToken({ installation_id: installationId });
        const WithDefaults = app.constructor as new (options: Record<string, unknown>) => Octokit;
        const octokit = new WithDefaults({ auth: { token: minted.data.token } });
        octokits.set(installationId, octokit);
        return octokit;
      },
    });
  };

  const validate = async (client: GitHubClient, sha: string) => {
    const snapshot = await snapshotAt(client, sha);
    const compiled = compileAll(snapshot);
    deps.store.putPlanDigests(client.fullName, sha, digestsOf(compiled));
    const view = renderValidate(compiled);
    await writeCheckRun(client, deps.store, {
      name: VALIDATE_CHECK_NAME,
      headSha: sha,
      externalId: `validate:${sha}`,
      status: 'completed',
      conclusion: view.conclusion,
      title: view.title,
      summary: view.summary,
      annotations: view.annotations,
    });
    return { snapshot, compiled };
  };

  const dispatchContext = (client: GitHubClient, engines: Engines): DispatchContext => ({
    client,
    store: deps.store,
    engines,
    clock: deps.clock,
    publicKeyPem: deps.signer.publicKeyPem ?? '',
    sensitive: deps.sensitive,
    runUpdateIntervalMs: deps.runUpdateIntervalMs,
    onError: deps.onError,
    track: deps.track,
  });

  const digestsAt = (client: GitHubClient) => async (sha: string) => {
    const known = deps.store.getPlanDigests(client.fullName, sha);
    if (known) return known;
    const compiled = compileAll(await snapshotAt(client, sha));
    const digests = digestsOf(compiled);
    deps.store.putPlanDigests(client.fullName, sha, digests);
    return digests;
  };

  const gate = async (
    client: GitHubClient,
    pr: { number: number; user: { login: string } | null; head: { sha: string } },
    snapshot: RepositorySnapshot,
    compiled: CompiledManifest[],
  ) =>
    evaluateApprovalGate(
      {
        client,
        store: deps.store,
        signer: deps.signer,
        sensitive: deps.sensitive,
        now: () => deps.clock.now(),
        digestsAt: digestsAt(client),
      },
      { number: pr.number, author: pr.user?.login ?? '', headSha: pr.head.sha },
      snapshot,
      compiled,
    );

  probot.on('push', async (context) => {
    const payload = context.payload;
    if (payload.deleted || /^0+$/.test(payload.after)) return;
    const client = clientFor(payload as unknown as RepoPayload);
    const { compiled } = await validate(client, payload.after);
    const branch = payload.ref.replace(/^refs\/heads\//, '');
    if (!payload.ref.startsWith('refs/heads/') || branch !== payload.repository.default_branch) return;
    if (!deps.engines) return;
    const changed = payload.commits.flatMap((c) => [
      ...(c.added ?? []),
      ...(c.modified ?? []),
      ...(c.removed ?? []),
    ]);
    for (const { plan } of plansByWorkflow(compiled).values()) {
      if (!matchesRefFilter(plan.triggers.push, branch, payload.commits.length > 0 ? changed : undefined))
        continue;
      await dispatchWorkflow(dispatchContext(client, deps.engines), {
        plan,
        headSha: payload.after,
        trigger: 'push',
        actor: payload.sender?.login ?? payload.pusher.name,
        fromFork: false,
      });
    }
  });

  probot.on(
    [
      'pull_request.opened',
      'pull_request.synchronize',
      'pull_request.reopened',
      'pull_request.ready_for_review',
    ],
    async (context) => {
      const client = clientFor(context.payload as unknown as RepoPayload);
      const pr = await readPullRequest(client, context.payload.pull_request.number);
      const { snapshot, compiled } = await validate(client, pr.head.sha);
      await gate(client, pr, snapshot, compiled);
      if (!deps.engines) return;
      const fromFork = pr.head.repo?.full_name !== pr.base.repo.full_name;
      for (const { plan } of plansByWorkflow(compiled).values()) {
        if (!matchesRefFilter(plan.triggers.pull_request, pr.base.ref, undefined)) continue;
        await dispatchWorkflow(dispatchContext(client, deps.engines), {
          plan,
          headSha: pr.head.sha,
          trigger: 'pull_request',
          actor: pr.user?.login ?? 'unknown',
          fromFork,
        });
      }
    },
  );

  probot.on(
    ['pull_request_review.submitted', 'pull_request_review.dismissed', 'pull_request_review.edited'],
    async (context) => {
      const client = clientFor(context.payload as unknown as RepoPayload);
      // The review event may be older than the pull request's current head: read the head now.
      const pr = await readPullRequest(client, context.payload.pull_request.number);
      const snapshot = await snapshotAt(client, pr.head.sha);
      const compiled = compileAll(snapshot);
      deps.store.putPlanDigests(client.fullName, pr.head.sha, digestsOf(compiled));
      await gate(client, pr, snapshot, compiled);
    },
  );

  probot.on(['check_suite.requested', 'check_suite.rerequested'], async (context) => {
    await validate(
      clientFor(context.payload as unknown as RepoPayload),
      context.payload.check_suite.head_sha,
    );
  });

  probot.on(['check_run.requested_action', 'check_run.rerequested'], async (context) => {
    const payload = context.payload;
    const client = clientFor(payload as unknown as RepoPayload);
    const externalId = payload.check_run.external_id ?? '';
    if (externalId.startsWith('validate:')) {
      await validate(client, payload.check_run.head_sha);
      return;
    }
    if (!externalId.startsWith('run:') || !deps.engines) return;
    const run = deps.store.getRun(externalId.slice(4));
    if (!run || run.repo !== client.fullName) return;
    const engine = run.fromFork ? deps.engines.untrusted : deps.engines.trusted;
    const actor = payload.sender.login;
    const identifier = payload.action === 'requested_action' ? payload.requested_action?.identifier : 'rerun';
    if (identifier === CANCEL_ACTION) {
      await engine.cancel(run.runId, { by: actor });
    } else if (identifier === RETRY_ACTION) {
      engine.retry(run.runId, { by: actor });
      startRun(dispatchContext(client, deps.engines), engine, run.runId, run.headSha, (id) =>
        engine.execute(id),
      );
    } else if (identifier === 'rerun') {
      const previous = engine.store.getRun(run.runId);
      await dispatchWorkflow(dispatchContext(client, deps.engines), {
        plan: previous.plan,
        headSha: run.headSha,
        trigger: 'rerun',
        actor,
        fromFork: run.fromFork,
      });
    }
  });

  // Installations need no state: every event names its installation. Log them for operators.
  probot.on(['installation', 'installation_repositories'], async (context) => {
    context.log.info(
      { installation: context.payload.installation.id, action: context.payload.action },
      'installation changed',
    );
  });

  probot.on('issue_comment.created', async (context) => {
    const payload = context.payload;
    const match = RUN_COMMAND.exec(payload.comment.body);
    if (!match || !deps.engines) return;
    const client = clientFor(payload as unknown as RepoPayload);
    const login = payload.comment.user?.login ?? '';
    const permission = await client.call('read commenter permission', (octokit) =>
      octokit.rest.repos.getCollaboratorPermissionLevel({
        owner: client.owner,
        repo: client.repo,
        username: login,
      }),
    );
    if (
      !WRITE_PERMISSIONS.has(permission.data.permission) &&
      !WRITE_PERMISSIONS.has(permission.data.role_name ?? '')
    )
      return;
    let sha: string;
    let fromFork = false;
    if (payload.issue.pull_request) {
      const pr = await readPullRequest(client, payload.issue.number);
      sha = pr.head.sha;
      fromFork = pr.head.repo?.full_name !== pr.base.repo.full_name;
    } else {
      const branch = await client.call('read default branch', (octokit) =>
        octokit.rest.repos.getBranch({
          owner: client.owner,
          repo: client.repo,
          branch: payload.repository.default_branch,
        }),
      );
      sha = branch.data.commit.sha;
    }
    const compiled = compileAll(await snapshotAt(client, sha));
    const wanted = match[1]!;
    const entry = [...plansByWorkflow(compiled)].find(
      ([key, { plan }]) => key === wanted || plan.workflow.name === wanted,
    );
    if (!entry) return;
    await dispatchWorkflow(dispatchContext(client, deps.engines), {
      plan: entry[1].plan,
      headSha: sha,
      trigger: 'comment',
      actor: login,
      fromFork,
    });
  });

  return { clientFor: clientOf, dispatchContext };
}

async function readPullRequest(client: GitHubClient, pullNumber: number) {
  const response = await client.call('read pull request', (octokit) =>
    octokit.rest.pulls.get({ owner: client.owner, repo: client.repo, pull_number: pullNumber }),
  );
  return response.data;
}
