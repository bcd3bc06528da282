/**
 * The stand-in's GitHub resources: what a test sets up (repositories, pull requests, reviews) and
 * the check runs the app writes, with the JSON GitHub answers for each (checked against the
 * OpenAPI description by openapi-check.ts on every response).
 */
export interface StandInRepo {
  owner: string;
  name: string;
  id: number;
  bareDir: string;
  defaultBranch: string;
  /**
   * Private: readable over git only with a token of an installation that lists it; any other
   * token gets 404 ("Repository not found"), as from GitHub. Default: any live token reads it.
   */
  private?: boolean;
}

export interface StandInPull {
  number: number;
  author: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  /** full_name of the head repository (a fork when it differs from the base). */
  headRepo: string;
  /** The base branch's SHA as GitHub reports it (default: the base branch's current tip). */
  baseSha?: string;
  state?: 'open' | 'closed';
  merged?: boolean;
  mergeCommitSha?: string;
}

export interface StandInReview {
  id: number;
  login: string;
  userType?: 'User' | 'Bot';
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commitId: string;
  submittedAt: string;
}

export interface StandInCheckRun {
  id: number;
  repo: string;
  head_sha: string;
  name: string;
  external_id: string;
  status: string;
  conclusion: string | null;
  output: { title?: string; summary?: string; text?: string };
  annotations: Record<string, unknown>[];
  actions: Record<string, unknown>[];
  writes: number;
  /** When the first write (the create) arrived: epoch ms with sub-millisecond precision. */
  createdAt: number;
}

export function repositoryJson(repo: StandInRepo) {
  return {
    id: repo.id,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: userOf(repo.owner, 'Organization'),
    private: true,
    default_branch: repo.defaultBranch,
  };
}

export function applyCheckRun(run: StandInCheckRun, body: Record<string, unknown>): void {
  run.writes += 1;
  if (body.name) run.name = String(body.name);
  if (body.status) run.status = String(body.status);
  if (body.conclusion) {
    run.conclusion = String(body.conclusion);
    run.status = 'completed';
  }
  if (body.external_id) run.external_id = String(body.external_id);
  if (Array.isArray(body.actions)) run.actions = body.actions as Record<string, unknown>[];
  const output = body.output as
    { title?: string; summary?: string; text?: string; annotations?: Record<string, unknown>[] } | undefined;
  if (output) {
    if (output.title !== undefined) run.output.title = output.title;
    if (output.summary !== undefined) run.output.summary = output.summary;
    if (output.text !== undefined) run.output.text = output.text;
    // GitHub appends annotations across updates.
    run.annotations.push(...(output.annotations ?? []));
  }
}

export function checkRunJson(run: StandInCheckRun) {
  return {
    id: run.id,
    head_sha: run.head_sha,
    node_id: `CR_${run.id}`,
    external_id: run.external_id,
    url: '',
    html_url: '',
    details_url: '',
    status: run.status,
    conclusion: run.conclusion,
    started_at: null,
    completed_at: null,
    output: { ...run.output, annotations_count: run.annotations.length, annotations_url: '' },
    name: run.name,
    check_suite: null,
    app: null,
    pull_requests: [],
  };
}

export function pullJson(
  pull: StandInPull,
  repo: StandInRepo,
  baseSha: string,
  cloneUrl: (fullName: string) => string,
) {
  const base = `${repo.owner}/${repo.name}`;
  const [headOwner] = pull.headRepo.split('/');
  return {
    number: pull.number,
    state: pull.state ?? 'open',
    merged: pull.merged ?? false,
    merge_commit_sha: pull.mergeCommitSha ?? null,
    user: userOf(pull.author),
    head: {
      sha: pull.headSha,
      ref: pull.headRef,
      label: `${headOwner}:${pull.headRef}`,
      repo: { full_name: pull.headRepo, fork: pull.headRepo !== base, clone_url: cloneUrl(pull.headRepo) },
    },
    base: {
      sha: baseSha,
      ref: pull.baseRef,
      label: `${repo.owner}:${pull.baseRef}`,
      repo: { full_name: base, fork: false, clone_url: cloneUrl(base) },
    },
  };
}

export function userOf(login: string, type = login.endsWith('[bot]') ? 'Bot' : 'User') {
  return { login, id: hash(login), type, site_admin: false };
}

export function loginOf(email: string): string {
  return email.replace(/@users\.noreply\.github\.com$/, '');
}

function hash(text: string): number {
  let h = 7;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) % 1_000_000;
  return h;
}
