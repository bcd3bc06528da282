import type { Probot } from 'probot';
import type { Clock } from '../../core/index.ts';
import type { ProvenanceSigner } from '../../provenance/index.ts';
import type { AppStore } from '../app-store.ts';
import { deliveryStep } from '../delivery-trace.ts';
import { writeCheckRun } from '../checks/check-runs.ts';
import { manualRunActions, renderValidate, VALIDATE_CHECK_NAME } from '../checks/render-validate.ts';
import type { DispatchContext, DispatchStep, Engines } from '../dispatch/dispatch-runs.ts';
import type { RunReporter } from '../dispatch/run-reporter.ts';
import {
  evaluateApprovalGate,
  type Commit,
  type GateContext,
  type SensitivityCheck,
  type WorkflowGate,
} from '../gate/approval-gate.ts';
import { GitHubClient, type Octokit } from '../github/github-client.ts';
import { InstallationTokens } from '../github/installation-tokens.ts';
import {
  compileSnapshot,
  digestsOf,
  type CompileFn,
  type CompiledManifest,
} from '../source/compile-snapshot.ts';
import { Lru } from '../source/lru.ts';
import { readRepositorySnapshot, type RepositorySnapshot } from '../source/read-repository.ts';

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
  /** Approvals a head-only workflow with secrets or privileged runners needs. */
  defaultApprovals: number;
  /** How long an approval (and its attestation) stays valid. */
  approvalTtlMs: number;
  onDispatchStep?: (step: DispatchStep) => void;
  track: (reporter: RunReporter) => void;
  onError: (error: unknown) => void;
  /** The App's id (dispatch-runs.ts DispatchContext.appId). */
  appId?: number;
}

export interface RepoPayload {
  installation?: { id: number };
  repository: {
    name: string;
    owner: { login: string };
    full_name: string;
    default_branch: string;
    clone_url?: string;
  };
}

export interface PullRequestData {
  number: number;
  state: string;
  user: { login: string } | null;
  head: { sha: string; ref?: string; repo?: { full_name: string; clone_url?: string } | null };
  base: { ref: string; sha: string; repo: { full_name: string; clone_url?: string } };
  merged?: boolean | null;
  merge_commit_sha?: string | null;
}

export interface CompiledCommit {
  snapshot: RepositorySnapshot;
  compiled: CompiledManifest[];
}

/**
 * What every event handler shares: installation clients, the content-addressed caches, and the
 * steps several events take (validate a commit, evaluate a pull request's gate). One instance per
 * app; handlers get it explicitly instead of closing over a 300-line factory.
 */
export interface AppServices {
  readonly deps: HandlerDeps;
  clientFor(payload: RepoPayload): GitHubClient;
  clientOf(owner: string, repo: string, installationId: number): GitHubClient;
  /** A commit's manifests, read and compiled (both through the content-addressed caches). */
  commitAt(client: GitHubClient, sha: string): Promise<CompiledCommit>;
  /**
   * Compiles `sha`, records its plan digests and writes its `maestro / validate` check run;
   * `manualActions` (the default branch's head) adds "Run <workflow>" buttons.
   */
  validate(client: GitHubClient, sha: string, options?: { manualActions?: boolean }): Promise<CompiledCommit>;
  /** Evaluates an open pull request's gate: head compiled as given, rules from its base commit. */
  gate(client: GitHubClient, pr: PullRequestData, head: Commit): Promise<Map<string, WorkflowGate>>;
  gateContext(client: GitHubClient): GateContext;
  dispatchContext(client: GitHubClient, engines: Engines): DispatchContext;
  readPullRequest(client: GitHubClient, pullNumber: number): Promise<PullRequestData>;
  /** The installation's token (the one cache the App's REST clients use too, renewed before expiry); for git fetches. */
  installationToken(installationId: number): Promise<string>;
}

export function createAppServices(probot: Probot, deps: HandlerDeps): AppServices {
  // Content-addressed caches: git blobs by SHA, compile results by path and blob SHA.
  const blobs = new Lru<string>(2000);
  const compiledCache = new Lru<CompiledManifest>(2000);
  const snapshotAt = (client: GitHubClient, sha: string) => readRepositorySnapshot(client, sha, blobs);
  const compileAll = (snapshot: RepositorySnapshot) => compileSnapshot(snapshot, deps.compile, compiledCache);
  const commitAt = (client: GitHubClient, sha: string): Promise<CompiledCommit> =>
    deliveryStep(
      'maestro.compile',
      { 'vcs.repository.name': client.fullName, 'vcs.ref.head.revision': sha },
      async (span) => {
        const snapshot = await snapshotAt(client, sha);
        const compiled = compileAll(snapshot);
        span?.setAttribute('maestro.compile.manifests', compiled.length);
        return { snapshot, compiled };
      },
    );
  // One token cache for everything the App does as an installation: its REST calls and the
  // engine's source fetches. Tokens are minted through the App's own client (its REST base URL:
  // the installation strategy's auth() alone asks api.github.com, whatever the App's GitHub is,
  // when no API call has cached a token yet, as on a resumed run) and kept until shortly before
  // expiry. Probot's own installation cache (probot.auth(id)) is not used: two caches minted two
  // tokens per installation and renewed them on different schedules.
  const tokens = new InstallationTokens(
    async (installationId) => {
      const app = (await probot.auth()) as Octokit;
      const minted = await app.rest.apps.createInstallationAccessToken({ installation_id: installationId });
      return { token: minted.data.token, expiresAt: Date.parse(minted.data.expires_at) };
    },
    () => deps.clock.now(),
  );
  // An installation's client for its current token (a renewed token gets a new client);
  // `fresh`: the token was refused (expired or revoked), so it is forgotten and minted again.
  const octokits = new Map<number, { token: string; octokit: Octokit }>();
  const installationOctokit = async (installationId: number, fresh: boolean): Promise<Octokit> => {
    if (fresh) tokens.forget(installationId);
    const token = await tokens.token(installationId);
    const known = octokits.get(installationId);
    if (known?.token === token) return known.octokit;
    const app = (await probot.auth()) as Octokit;
    const WithDefaults = app.constructor as new (options: Record<string, unknown>) => Octokit;
    const octokit = new WithDefaults({ auth: { token } });
    octokits.set(installationId, { token, octokit });
    return octokit;
  };
  const clientOf = (owner: string, repo: string, installationId: number): GitHubClient =>
    new GitHubClient({
      owner,
      repo,
      installationId,
      clock: deps.clock,
      backoffMs: deps.backoffMs,
      authenticate: (fresh) => installationOctokit(installationId, fresh),
    });
  const digestsAt = (client: GitHubClient) => async (sha: string) => {
    const known = await deps.store.getPlanDigests(client.fullName, sha);
    if (known) return known;
    const digests = digestsOf((await commitAt(client, sha)).compiled);
    await deps.store.putPlanDigests(client.fullName, sha, digests);
    return digests;
  };
  const gateContext = (client: GitHubClient): GateContext => ({
    client,
    store: deps.store,
    signer: deps.signer,
    sensitive: deps.sensitive,
    now: () => deps.clock.now(),
    digestsAt: digestsAt(client),
    defaultRequired: deps.defaultApprovals,
    approvalTtlMs: deps.approvalTtlMs,
  });
  return {
    deps,
    clientOf,
    clientFor: (payload) => {
      const installationId = payload.installation?.id;
      if (installationId === undefined) throw new Error('the event carries no installation id');
      return clientOf(payload.repository.owner.login, payload.repository.name, installationId);
    },
    commitAt,
    validate: async (client, sha, options = {}) => {
      const { snapshot, compiled } = await commitAt(client, sha);
      await deps.store.putPlanDigests(client.fullName, sha, digestsOf(compiled));
      const view = renderValidate(compiled);
      const actions = options.manualActions && deps.engines ? manualRunActions(compiled) : [];
      await writeCheckRun(client, deps.store, {
        name: VALIDATE_CHECK_NAME,
        headSha: sha,
        externalId: `validate:${sha}`,
        status: 'completed',
        conclusion: view.conclusion,
        title: view.title,
        summary: view.summary,
        annotations: view.annotations,
        ...(actions.length > 0 ? { actions } : {}),
      });
      return { snapshot, compiled };
    },
    gateContext,
    gate: (client, pr, head) =>
      deliveryStep(
        'maestro.gate',
        {
          'vcs.repository.name': client.fullName,
          'vcs.change.id': String(pr.number),
          'vcs.ref.head.revision': pr.head.sha,
        },
        async () => {
          const base = pr.base.sha === '' ? undefined : await commitAt(client, pr.base.sha);
          return evaluateApprovalGate(
            gateContext(client),
            { number: pr.number, author: pr.user?.login ?? '', headSha: pr.head.sha, baseSha: pr.base.sha },
            head,
            base,
          );
        },
      ),
    dispatchContext: (client, engines) => ({
      client,
      store: deps.store,
      engines,
      clock: deps.clock,
      publicKeyPem: deps.signer.publicKeyPem ?? '',
      runUpdateIntervalMs: deps.runUpdateIntervalMs,
      onError: deps.onError,
      track: deps.track,
      ...(deps.onDispatchStep ? { onDispatchStep: deps.onDispatchStep } : {}),
      ...(deps.appId !== undefined ? { appId: deps.appId } : {}),
    }),
    readPullRequest: async (client, pullNumber) => {
      const response = await client.call('read pull request', (octokit) =>
        octokit.rest.pulls.get({ owner: client.owner, repo: client.repo, pull_number: pullNumber }),
      );
      return response.data as PullRequestData;
    },
    installationToken: (installationId) => tokens.token(installationId),
  };
}
