// notify's pull-request comment is a request, not a GitHub call: a task never holds a GitHub
// token. The task outputs `prComment` ({ v: 1, key, body }); when the run ends, the GitHub App
// that dispatched it posts the body on the run's own pull request with its installation token
// (app/dispatch/pr-comments.ts), updating the comment an earlier run left with the same key
// instead of adding another. The task cannot name a repository or a pull request: the App uses
// the run's. A run not started by the App (maestro run) outputs the request and nothing posts it.
// The body is at most 40,000 characters (the `text` input's limit), within GitHub's 65,536.

export type PrCommentRequest = {
  v: 1;
  key?: string;
  body: string;
};

export function prCommentRequest(body: string, key: string | undefined): PrCommentRequest {
  return { v: 1, ...(key ? { key } : {}), body };
}
