import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  openAppRuntime,
  type AppRuntime,
  type AppRuntimeOptions,
  type IngressLimits,
} from '../../app/index.ts';
import type { Clock } from '../../core/index.ts';
import { runtimeConfigFromEnv } from '../../runtime/index.ts';
import { GitHubStandIn } from './standin.ts';
import { TestRepository } from './git-repo.ts';
import { signedDelivery, webhookExample, type Payload } from './webhooks.ts';

export const SECRET = 'standin-webhook-secret';
export const OWNER = 'acme';
export const REPO = 'pipelines';
export const INSTALLATION_ID = 4242;

export interface Harness {
  standin: GitHubStandIn;
  repo: TestRepository;
  runtime: AppRuntime;
  appUrl: string;
  dataDir: string;
  /** POSTs a signed delivery to the app; returns the HTTP status. */
  deliver(event: string, payload: unknown, id?: string): Promise<number>;
  /** Posts a raw request (for forged signatures). */
  post(body: string, headers: Record<string, string>): Promise<number>;
  /** Waits until the app has processed every delivery and written every live run's last state. */
  idle(): Promise<void>;
  pushPayload(options: {
    ref: string;
    before: string;
    after: string;
    pusher: string;
    files?: string[];
  }): Payload;
  /** `sender`: who caused the event (for `synchronize`, who pushed); default the author. */
  pullRequestPayload(
    action: string,
    pull: {
      number: number;
      headSha: string;
      author: string;
      headRepo?: string;
      sender?: string;
      merged?: boolean;
      mergeCommitSha?: string;
    },
  ): Payload;
  reviewPayload(
    action: string,
    pull: { number: number; headSha: string; author: string },
    reviewer: string,
  ): Payload;
  close(): Promise<void>;
}

/** Adjusts a real example payload's repository and installation to the stand-in's. */
function retarget(payload: Payload): Payload {
  payload.repository = {
    ...payload.repository,
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    default_branch: 'main',
    owner: { ...payload.repository.owner, login: OWNER },
  };
  payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==' };
  return payload;
}

/** A running stand-in with the app's key pair, holding one repository; shared by app restarts. */
export interface StandInSetup {
  standin: GitHubStandIn;
  baseUrl: string;
  appId: string;
  privateKeyPem: string;
  repo: TestRepository;
}

export async function startStandIn(options: { repo?: TestRepository } = {}): Promise<StandInSetup> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appId = '777';
  const standin = new GitHubStandIn({
    appId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const baseUrl = await standin.start();
  const repo = options.repo ?? new TestRepository('main');
  standin.addRepo({ owner: OWNER, name: REPO, id: 9001, bareDir: repo.bareDir, defaultBranch: 'main' });
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return { standin, baseUrl, appId, privateKeyPem, repo };
}

/** Stops the stand-in and removes its repository (a harness's close() does this too). */
export async function stopStandIn(setup: Pick<StandInSetup, 'standin' | 'repo'>): Promise<void> {
  await setup.standin.stop();
  setup.repo.remove();
}

/** The app runtime options every test app uses (in this process or in app-process.ts). */
export function harnessRuntimeOptions(setup: {
  appId: string;
  privateKeyPem: string;
  baseUrl: string;
  dataDir: string;
  runUpdateIntervalMs?: number;
  /** Ingress bounds for this test (a short body deadline, a small cap). */
  ingress?: Partial<IngressLimits>;
  /** Extra runtime variables (MAESTRO_POLICY, MAESTRO_RUNNERS_CONFIG, DOCKER_HOST, ...). */
  env?: Record<string, string>;
}): AppRuntimeOptions {
  // The app reads its runtime the way `maestro app` does: runtimeConfigFromEnv over variables.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: setup.dataDir,
    LANG: 'C.UTF-8',
    MAESTRO_DATA_DIR: setup.dataDir,
    MAESTRO_SECRET_DEPLOY_TOKEN: 'trusted-secret-value',
    ...setup.env,
  };
  return {
    appId: setup.appId,
    privateKey: setup.privateKeyPem,
    webhookSecret: SECRET,
    webhookPath: '/api/github/webhooks',
    baseUrl: setup.baseUrl,
    runtime: runtimeConfigFromEnv(env, { cwd: setup.dataDir, flags: { concurrency: 2 } }),
    forkRunner: 'local',
    runUpdateIntervalMs: setup.runUpdateIntervalMs ?? 200,
    ...(setup.ingress ? { ingressLimits: setup.ingress } : {}),
    backoffMs: 10,
  };
}

/**
 * Starts the stand-in, a real bare repository, and the real app (openAppRuntime: compiler,
 * engine with the local runner, SQLite stores, dev signing key) listening on a free port with
 * its GitHub base URL pointed at the stand-in. With `standIn`, the app joins an existing
 * stand-in (an app restart); close() still stops it.
 */
export async function startHarness(
  options: {
    runUpdateIntervalMs?: number;
    dataDir?: string;
    repo?: TestRepository;
    standIn?: StandInSetup;
    ingress?: Partial<IngressLimits>;
    clock?: Clock;
    env?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const { standin, baseUrl, appId, privateKeyPem, repo } =
    options.standIn ?? (await startStandIn(options.repo ? { repo: options.repo } : {}));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'maestro-app-test-'));
  const runtime = await openAppRuntime({
    ...harnessRuntimeOptions({
      appId,
      privateKeyPem,
      baseUrl,
      dataDir,
      ...(options.ingress ? { ingress: options.ingress } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.runUpdateIntervalMs === undefined
        ? {}
        : { runUpdateIntervalMs: options.runUpdateIntervalMs }),
    }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const port = await runtime.app.listen(0, '127.0.0.1');
  const appUrl = `http://127.0.0.1:${port}`;
  let reviews = 0;
  const post = async (body: string, headers: Record<string, string>) => {
    const response = await fetch(`${appUrl}/api/github/webhooks`, { method: 'POST', body, headers });
    await response.text();
    return response.status;
  };
  return {
    standin,
    repo,
    runtime,
    appUrl,
    dataDir,
    post,
    deliver: (event, payload, id = randomUUID()) => {
      const delivery = signedDelivery(SECRET, event, pointAtStandIn(payload as Payload, standin), id);
      return post(delivery.body, delivery.headers);
    },
    idle: () => runtime.app.idle(),
    pushPayload,
    pullRequestPayload: (action, pull) => {
      const payload = retarget(webhookExample('pull_request', action));
      payload.action = action;
      payload.number = pull.number;
      payload.pull_request.number = pull.number;
      payload.pull_request.user = { ...payload.pull_request.user, login: pull.author };
      payload.pull_request.head.sha = pull.headSha;
      payload.pull_request.head.repo = {
        ...payload.pull_request.head.repo,
        full_name: pull.headRepo ?? `${OWNER}/${REPO}`,
      };
      payload.pull_request.base.repo = { ...payload.pull_request.base.repo, full_name: `${OWNER}/${REPO}` };
      payload.pull_request.base.ref = 'main';
      payload.sender = { ...payload.sender, login: pull.sender ?? pull.author };
      if (pull.merged !== undefined) {
        payload.pull_request.merged = pull.merged;
        payload.pull_request.merge_commit_sha = pull.mergeCommitSha ?? null;
        payload.pull_request.state = 'closed';
      }
      return payload;
    },
    reviewPayload: (action, pull, reviewer) => {
      const payload = retarget(webhookExample('pull_request_review', action));
      payload.action = action;
      payload.pull_request.number = pull.number;
      payload.pull_request.user = { ...payload.pull_request.user, login: pull.author };
      payload.pull_request.head.sha = pull.headSha;
      payload.review.user = { ...payload.review.user, login: reviewer };
      // Every review GitHub reports is a new review with its own id and time, so no two review
      // deliveries carry the same bytes (ingress refuses a repeated body as a replay).
      reviews += 1;
      payload.review.id = payload.review.id * 1000 + reviews;
      payload.review.submitted_at = new Date(Date.UTC(2026, 0, 1, 0, 0, reviews)).toISOString();
      payload.sender = { ...payload.sender, login: reviewer };
      return payload;
    },
    close: async () => {
      await runtime.close();
      await stopStandIn({ standin, repo });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Closes the harness, then asserts that no delivery failed and the stand-in saw no call GitHub would refuse. */
export async function closeChecked(h: Harness): Promise<void> {
  const failed = await h.runtime.deliveryStore.failedDeliveries();
  await h.close();
  expect(failed).toEqual([]);
  expect(h.standin.violations).toEqual([]);
}

/** Sets each login's permission on the stand-in's repository (what the app's write-access check reads). */
export function grantPermissions(standin: GitHubStandIn, permissions: Record<string, string>): void {
  for (const [login, permission] of Object.entries(permissions))
    standin.permissions.set(`${OWNER}/${REPO}:${login}`, permission);
}

/**
 * Points the payload's clone URLs (the repository's, a pull request's head and base) at the
 * stand-in's git server, where GitHub's would point at github.com. Runs fetch their source there.
 */
export function pointAtStandIn(payload: Payload, standin: GitHubStandIn): Payload {
  const repos = [payload.repository, payload.pull_request?.head?.repo, payload.pull_request?.base?.repo];
  for (const repo of repos)
    if (repo && typeof repo.full_name === 'string') repo.clone_url = standin.cloneUrl(repo.full_name);
  return payload;
}

/** An `issue_comment.created` by `login` on issue or pull request `number`. */
export function commentPayload(
  login: string,
  body: string,
  issue: { number: number; pull: boolean },
): Payload {
  const payload = retarget(webhookExample('issue_comment', 'created'));
  payload.issue.number = issue.number;
  if (issue.pull) payload.issue.pull_request = { url: '', html_url: '', diff_url: '', patch_url: '' };
  else delete payload.issue.pull_request;
  payload.comment.body = body;
  payload.comment.user = { ...payload.comment.user, login };
  payload.sender = { ...payload.sender, login };
  return payload;
}

/** A `check_run` button event (`requested_action` with an identifier, or `rerequested`) by `login`. */
export function checkRunPayload(
  action: string,
  check: { externalId: string; headSha: string },
  login: string,
  identifier?: string,
): Payload {
  const payload = retarget(webhookExample('check_run', action));
  payload.check_run.external_id = check.externalId;
  payload.check_run.head_sha = check.headSha;
  payload.sender = { ...payload.sender, login };
  if (identifier) payload.requested_action = { identifier };
  return payload;
}

/** A push event for the stand-in's repository. */
export function pushPayload({
  ref,
  before,
  after,
  pusher,
  files,
}: {
  ref: string;
  before: string;
  after: string;
  pusher: string;
  files?: string[];
}): Payload {
  const payload = retarget(webhookExample('push'));
  payload.ref = ref;
  payload.before = before;
  payload.after = after;
  payload.deleted = false;
  payload.created = false;
  payload.pusher = { name: pusher, email: `${pusher}@users.noreply.github.com` };
  // GitHub stamps the push's time; ingress refuses pushes older than the delivery retention.
  payload.repository.pushed_at = Math.floor(Date.now() / 1000);
  payload.sender = { ...payload.sender, login: pusher };
  payload.commits = [
    {
      ...(payload.commits?.[0] ?? {}),
      id: after,
      added: [],
      removed: [],
      modified: files ?? ['.maestro/workflows/deploy.yaml'],
    },
  ];
  payload.head_commit = payload.commits[0];
  return payload;
}
