import { execFileSync } from 'node:child_process';
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { git } from './git-repo.ts';
import { basicToken, matchGitPath, serveGitHttp, type GitHttpRequestRecord } from './git-http.ts';
import { ManifestFlow } from './manifest-flow.ts';
import { OpenApiCheck } from './openapi-check.ts';
import {
  applyCheckRun,
  checkRunJson,
  loginOf,
  pullJson,
  repositoryJson,
  userOf,
  type StandInCheckRun,
  type StandInPull,
  type StandInRepo,
  type StandInReview,
} from './resources.ts';

export type { StandInCheckRun, StandInPull, StandInRepo, StandInReview } from './resources.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string;
  status: number;
  time: number;
}

interface Fault {
  method: string;
  pathPattern: RegExp;
  status: number;
  headers: Record<string, string>;
  message: string;
  remaining: number;
}

/** Operations GitHub authenticates with the App's JWT rather than an installation token. */
const APP_JWT_OPERATIONS = new Set(['apps/create-installation-access-token', 'apps/list-installations']);

/**
 * A local stand-in for the GitHub REST API. Every request is first checked against GitHub's
 * OpenAPI description; a request the description does not allow is answered 422 and recorded in
 * `violations`, which each test asserts is empty. Repositories are real bare git repositories;
 * trees, blobs and commits are read from them with git. Installation tokens are minted only for
 * a JWT that verifies under the app's public key, and expire like GitHub's.
 */
export class GitHubStandIn {
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly checkRuns: StandInCheckRun[] = [];
  /** Issue and pull-request comments: the App's (through the API) and any a test adds. */
  readonly comments: StandInComment[] = [];
  /** Git smart-HTTP requests (clones and fetches of `/<owner>/<repo>.git`). */
  readonly gitRequests: GitHttpRequestRecord[] = [];
  readonly repos = new Map<string, StandInRepo>();
  readonly pulls = new Map<string, StandInPull>();
  readonly reviews = new Map<string, StandInReview[]>();
  /** `${owner/repo}:${login}` → admin | maintain | write | triage | read | none. */
  readonly permissions = new Map<string, string>();
  /** `${org}/${slug}` → member logins. */
  readonly teams = new Map<string, string[]>();
  /** Installation id → the repositories (`owner/name`) it can reach (GET /app/installations, /installation/repositories). */
  readonly installations = new Map<number, string[]>();
  readonly #check = new OpenApiCheck();
  readonly #tokens = new Map<string, { installationId: number; expiresAt: number }>();
  readonly #faults: Fault[] = [];
  readonly #holds: {
    match: (method: string, path: string, body: unknown) => boolean;
    release: Promise<void>;
  }[] = [];
  readonly #objects = new Map<string, unknown>();
  /** GitHub's manifest flow: the "new App" form and the code conversion. */
  readonly manifests = new ManifestFlow();
  // The App whose JWTs mint tokens; a manifest conversion registers a new one and switches to it.
  #appId: string;
  #publicKey: KeyObject;
  #origin = '';
  #server: Server | undefined;
  #nextId = 1000;
  /** Lifetime of minted installation tokens. */
  tokenTtlMs = 60 * 60 * 1000;

  constructor(options: { appId: string; publicKeyPem: string }) {
    this.#appId = options.appId;
    this.#publicKey = createPublicKey(options.publicKeyPem);
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.violations.push(`stand-in crashed on ${req.method} ${req.url}: ${(error as Error).stack}`);
        if (!res.headersSent) send(res, 500, { message: 'stand-in error' });
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#origin;
  }

  async stop(): Promise<void> {
    if (this.#server) await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  /** Where git serves a repository, as GitHub's `clone_url` says: `${base}/<owner>/<repo>.git`. */
  cloneUrl(fullName: string): string {
    return `${this.#origin}/${fullName}.git`;
  }

  addRepo(repo: StandInRepo): void {
    this.repos.set(`${repo.owner}/${repo.name}`, repo);
  }

  /** Makes the next `times` requests matching method and path fail with this status. */
  injectFault(fault: {
    method: string;
    path: RegExp;
    status: number;
    headers?: Record<string, string>;
    message?: string;
    times?: number;
  }): void {
    this.#faults.push({
      method: fault.method,
      pathPattern: fault.path,
      status: fault.status,
      headers: fault.headers ?? {},
      message: fault.message ?? 'injected failure',
      remaining: fault.times ?? 1,
    });
  }

  /** Mints an installation token (what POST /app/installations/{id}/access_tokens returns). */
  issueInstallationToken(installationId: number): { token: string; expiresAt: number } {
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const expiresAt = Date.now() + this.tokenTtlMs;
    this.#tokens.set(token, { installationId, expiresAt });
    return { token, expiresAt };
  }

  /**
   * Holds every request `match` accepts (its answer waits) until the returned function is called:
   * lets a test freeze the app at a chosen point, e.g. to kill it there.
   */
  hold(match: (method: string, path: string, body: unknown) => boolean): () => void {
    let release!: () => void;
    const entry = { match, release: new Promise<void>((resolve) => (release = resolve)) };
    this.#holds.push(entry);
    return () => {
      this.#holds.splice(this.#holds.indexOf(entry), 1);
      release();
    };
  }

  /** Expires every installation token minted so far (the next use gets 401). */
  expireTokens(): void {
    for (const token of this.#tokens.values()) token.expiresAt = 0;
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  checkRunsNamed(name: string, headSha?: string): StandInCheckRun[] {
    return this.checkRuns.filter(
      (run) => run.name === name && (headSha === undefined || run.head_sha === headSha),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin.local');
    // GitHub Enterprise Server serves the same API under /api/v3 (probot's GHE_HOST).
    if (url.pathname.startsWith('/api/v3/')) url.pathname = url.pathname.slice('/api/v3'.length);
    const method = req.method ?? 'GET';
    const gitPath = matchGitPath(url.pathname);
    if (gitPath) return this.#serveGit(req, res, gitPath, url.search.slice(1));
    const raw = await readAll(req);
    // The manifest flow's web form is GitHub's web UI, not its REST API.
    if (this.manifests.handleForm(method, url, raw, res)) return;
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        this.violations.push(`${method} ${url.pathname}: body is not JSON`);
        return send(res, 400, { message: 'Problems parsing JSON' });
      }
    }
    let operationId: string;
    let params: Record<string, string>;
    try {
      ({ operationId, params } = this.#check.check(method, url, body));
    } catch (error) {
      this.violations.push((error as Error).message);
      return send(res, 422, { message: (error as Error).message });
    }
    const record: RecordedRequest = { method, path: url.pathname, operationId, status: 0, time: Date.now() };
    this.requests.push(record);
    const held = this.#holds.find((h) => h.match(method, url.pathname, body));
    if (held) await held.release;
    const fault = this.#faults.find(
      (f) => f.remaining > 0 && f.method === method && f.pathPattern.test(url.pathname),
    );
    if (fault) {
      fault.remaining -= 1;
      record.status = fault.status;
      return send(res, fault.status, { message: fault.message }, fault.headers);
    }
    const auth = this.#authorize(req, operationId);
    if (auth) {
      record.status = auth.status;
      return send(res, auth.status, { message: auth.message });
    }
    const [status, payload] =
      operationId === 'apps/list-repos-accessible-to-installation'
        ? this.#installationRepos(req)
        : this.#route(operationId, params, url, body as Record<string, unknown>);
    record.status = status;
    send(res, status, payload);
  }

  /**
   * A clone or fetch over smart HTTP: allowed with a live installation token (as the Basic
   * password), else 401 with a Basic challenge, as GitHub answers a private repository; a
   * private repository outside the token's installation is 404.
   */
  async #serveGit(
    req: IncomingMessage,
    res: ServerResponse,
    path: { owner: string; name: string; rest: string },
    query: string,
  ): Promise<void> {
    const token = basicToken(req);
    const key = `${path.owner}/${path.name}`;
    const record: GitHttpRequestRecord = {
      method: req.method ?? 'GET',
      repo: key,
      path: path.rest,
      token,
      status: 0,
    };
    this.gitRequests.push(record);
    const repo = this.repos.get(key);
    const known = token ? this.#tokens.get(token) : undefined;
    if (!repo || !known || known.expiresAt <= Date.now()) {
      record.status = 401;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
      return;
    }
    if (repo.private && !(this.installations.get(known.installationId) ?? []).includes(key)) {
      record.status = 404;
      res.writeHead(404).end('Repository not found.');
      return;
    }
    record.status = await serveGitHttp(req, res, repo.bareDir, path.rest, query);
  }

  #authorize(req: IncomingMessage, operationId: string): { status: number; message: string } | undefined {
    const header = req.headers.authorization ?? '';
    // GitHub converts a manifest code without credentials: the one-time code is the credential.
    if (operationId === 'apps/create-from-manifest') return undefined;
    if (APP_JWT_OPERATIONS.has(operationId)) {
      const jwt = /^bearer (.+)$/i.exec(header)?.[1];
      return jwt && this.#verifyJwt(jwt)
        ? undefined
        : { status: 401, message: 'A JSON web token could not be decoded' };
    }
    const token = /^token (.+)$/i.exec(header)?.[1];
    const known = token ? this.#tokens.get(token) : undefined;
    if (!known || known.expiresAt <= Date.now()) return { status: 401, message: 'Bad credentials' };
    return undefined;
  }

  #verifyJwt(jwt: string): boolean {
    const [head, claims, signature] = jwt.split('.');
    if (!head || !claims || !signature) return false;
    const verify = createVerify('RSA-SHA256');
    verify.update(`${head}.${claims}`);
    if (!verify.verify(this.#publicKey, Buffer.from(signature, 'base64url'))) return false;
    const payload = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as {
      iss?: unknown;
      exp?: number;
    };
    return String(payload.iss) === this.#appId && (payload.exp ?? 0) * 1000 > Date.now();
  }

  /**
   * Git objects named by full SHA never change, so their listings are cached (only full 40-hex
   * names: a branch name must be resolved each time).
   */
  #objectCache<T>(key: string, read: () => T | undefined): T | undefined {
    if (!/:[0-9a-f]{40}$/.test(key)) return read();
    if (this.#objects.has(key)) return this.#objects.get(key) as T;
    const value = read();
    if (value !== undefined) this.#objects.set(key, value);
    return value;
  }

  /** Reads trees of these commits ahead of time (benchmarks: keep git spawns out of the timing). */
  preloadTrees(repoKey: string, shas: readonly string[]): void {
    const repo = this.repos.get(repoKey);
    if (!repo) throw new Error(`no repository ${repoKey}`);
    for (const sha of shas)
      this.#objectCache(`tree:${sha}`, () =>
        safeGit(repo.bareDir, ['ls-tree', '-r', '-t', '--full-tree', '-l', sha]),
      );
  }

  #repo(params: Record<string, string>): StandInRepo | undefined {
    return this.repos.get(`${params.owner}/${params.repo}`);
  }

  /** The repositories of the installation whose token made the request. */
  #installationRepos(req: IncomingMessage): [number, unknown] {
    const token = /^token (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const installationId = this.#tokens.get(token)?.installationId ?? -1;
    const repositories = (this.installations.get(installationId) ?? []).flatMap((key) => {
      const repo = this.repos.get(key);
      return repo ? [{ ...repositoryJson(repo), clone_url: this.cloneUrl(key) }] : [];
    });
    return [200, { total_count: repositories.length, repositories }];
  }

  #route(
    operationId: string,
    params: Record<string, string>,
    url: URL,
    body: Record<string, unknown>,
  ): [number, unknown] {
    const notFound: [number, unknown] = [404, { message: 'Not Found' }];
    if (operationId === 'apps/create-from-manifest') {
      const answer = this.manifests.convert(String(params.code), this.#origin);
      const app = this.manifests.registered.at(-1);
      if (answer[0] === 201 && app) {
        this.#appId = String(app.id);
        this.#publicKey = app.publicKey;
      }
      return answer;
    }
    if (operationId === 'apps/list-installations')
      return [
        200,
        [...this.installations].map(([id, repos]) => ({
          id,
          account: userOf(repos[0]?.split('/')[0] ?? 'octo', 'Organization'),
          app_id: Number(this.#appId),
          target_type: 'Organization',
          repository_selection: 'selected',
        })),
      ];
    if (operationId === 'apps/create-installation-access-token') {
      const { token, expiresAt } = this.issueInstallationToken(Number(params.installation_id));
      return [
        201,
        {
          token,
          expires_at: new Date(expiresAt).toISOString(),
          permissions: { checks: 'write', contents: 'read' },
          repository_selection: 'all',
        },
      ];
    }
    const repo = this.#repo(params);
    const repoKey = `${params.owner}/${params.repo}`;
    switch (operationId) {
      case 'git/get-tree': {
        if (!repo) return notFound;
        const sha = params.tree_sha!;
        const listing = this.#objectCache(`tree:${sha}`, () =>
          safeGit(repo.bareDir, ['ls-tree', '-r', '-t', '--full-tree', '-l', sha]),
        );
        if (listing === undefined) return notFound;
        const tree = listing
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [meta, path] = line.split('\t');
            const [mode, type, objectSha, size] = meta!.split(/\s+/);
            return {
              path,
              mode,
              type,
              sha: objectSha,
              ...(type === 'blob' ? { size: Number(size) } : {}),
              url: '',
            };
          });
        return [200, { sha, url: '', tree, truncated: false }];
      }
      case 'git/get-blob': {
        if (!repo) return notFound;
        const content = this.#objectCache(`blob:${params.file_sha}`, () =>
          safeGitBuffer(repo.bareDir, ['cat-file', 'blob', params.file_sha!]),
        );
        if (content === undefined) return notFound;
        return [
          200,
          {
            sha: params.file_sha,
            size: content.length,
            content: content.toString('base64'),
            encoding: 'base64',
            url: '',
            node_id: '',
          },
        ];
      }
      case 'repos/get-commit': {
        if (!repo) return notFound;
        const info = this.#objectCache(`commit:${params.ref}`, () =>
          safeGit(repo.bareDir, ['log', '-1', '--format=%H%n%ae%n%ce', params.ref!]),
        );
        if (info === undefined) return notFound;
        const [sha, authorEmail, committerEmail] = info.split('\n');
        return [
          200,
          {
            sha,
            author: userOf(loginOf(authorEmail!)),
            committer: userOf(loginOf(committerEmail!)),
            commit: {},
            parents: [],
            files: [],
          },
        ];
      }
      case 'repos/get-branch': {
        if (!repo) return notFound;
        const sha = safeGit(repo.bareDir, ['rev-parse', `refs/heads/${params.branch}`]);
        return sha ? [200, { name: params.branch, commit: { sha }, protected: false }] : notFound;
      }
      case 'pulls/get': {
        const pull = this.pulls.get(`${repoKey}#${params.pull_number}`);
        if (!pull || !repo) return notFound;
        const baseSha =
          pull.baseSha ?? safeGit(repo.bareDir, ['rev-parse', `refs/heads/${pull.baseRef}`]) ?? '';
        return [200, pullJson(pull, repo, baseSha, (name) => this.cloneUrl(name))];
      }
      case 'pulls/list-reviews': {
        const reviews = this.reviews.get(`${repoKey}#${params.pull_number}`) ?? [];
        return [
          200,
          reviews.map((r) => ({
            id: r.id,
            user: userOf(r.login, r.userType ?? (r.login.endsWith('[bot]') ? 'Bot' : 'User')),
            state: r.state,
            commit_id: r.commitId,
            submitted_at: r.submittedAt,
            body: '',
          })),
        ];
      }
      case 'repos/get-collaborator-permission-level': {
        const permission = this.permissions.get(`${repoKey}:${params.username}`) ?? 'none';
        const legacy = permission === 'maintain' ? 'write' : permission === 'triage' ? 'read' : permission;
        return [200, { permission: legacy, role_name: permission, user: userOf(params.username!) }];
      }
      case 'teams/list-members-in-org': {
        const members = this.teams.get(`${params.org}/${params.team_slug}`);
        return members ? [200, members.map((login) => userOf(login))] : notFound;
      }
      case 'checks/create': {
        if (!repo) return notFound;
        const run: StandInCheckRun = {
          id: (this.#nextId += 1),
          repo: repoKey,
          head_sha: String(body.head_sha),
          name: String(body.name),
          external_id: String(body.external_id ?? ''),
          status: String(body.status ?? 'queued'),
          conclusion: (body.conclusion as string | undefined) ?? null,
          output: {},
          annotations: [],
          actions: [],
          writes: 0,
          createdAt: performance.timeOrigin + performance.now(),
        };
        this.checkRuns.push(run);
        applyCheckRun(run, body);
        return [201, checkRunJson(run)];
      }
      case 'checks/update': {
        const run = this.checkRuns.find((r) => r.id === Number(params.check_run_id) && r.repo === repoKey);
        if (!run) return notFound;
        applyCheckRun(run, body);
        return [200, checkRunJson(run)];
      }
      case 'issues/list-comments':
        return [
          200,
          this.comments
            .filter((c) => c.repo === repoKey && c.issue === Number(params.issue_number))
            .map((c) => commentJson(c)),
        ];
      case 'issues/create-comment': {
        if (!repo) return notFound;
        // Every request that reaches here carries an installation token: the App is the author.
        const comment: StandInComment = {
          id: (this.#nextId += 1),
          repo: repoKey,
          issue: Number(params.issue_number),
          body: String(body.body),
          login: 'summit-maestro[bot]',
          appId: Number(this.#appId),
          updates: 0,
        };
        this.comments.push(comment);
        return [201, commentJson(comment)];
      }
      case 'issues/update-comment': {
        const comment = this.comments.find((c) => c.id === Number(params.comment_id) && c.repo === repoKey);
        if (!comment) return notFound;
        comment.body = String(body.body);
        comment.updates += 1;
        return [200, commentJson(comment)];
      }
      case 'checks/list-for-ref': {
        const name = url.searchParams.get('check_name');
        const ref = params.ref!;
        const sha = /^[0-9a-f]{40}$/.test(ref)
          ? ref
          : repo
            ? safeGit(repo.bareDir, ['rev-parse', ref])
            : undefined;
        const runs = this.checkRuns.filter(
          (r) => r.repo === repoKey && r.head_sha === sha && (!name || r.name === name),
        );
        return [200, { total_count: runs.length, check_runs: runs.map(checkRunJson) }];
      }
      default:
        this.violations.push(`stand-in does not implement ${operationId}`);
        return [501, { message: `not implemented in the stand-in: ${operationId}` }];
    }
  }
}

export interface StandInComment {
  id: number;
  repo: string;
  issue: number;
  body: string;
  login: string;
  /** The App that wrote it (`performed_via_github_app`), when an App did. */
  appId?: number;
  updates: number;
}

function commentJson(c: StandInComment): Record<string, unknown> {
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: '',
    html_url: '',
    issue_url: '',
    body: c.body,
    user: userOf(c.login, c.login.endsWith('[bot]') ? 'Bot' : 'User'),
    author_association: 'NONE',
    created_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
    performed_via_github_app: c.appId === undefined ? null : { id: c.appId, slug: 'summit-maestro' },
  };
}

function safeGit(dir: string, args: string[]): string | undefined {
  try {
    return git(dir, args);
  } catch {
    return undefined;
  }
}

/** Raw bytes (blobs must not be trimmed). */
function safeGitBuffer(dir: string, args: string[]): Buffer | undefined {
  try {
    return execFileSync('git', args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1' },
    });
  } catch {
    return undefined;
  }
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
