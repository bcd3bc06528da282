import type { Probot } from 'probot';
import type { DispatchContext, Engines } from '../dispatch/dispatch-runs.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { createAppServices, type AppServices, type HandlerDeps } from './app-services.ts';
import { CHECK_RUN_EVENTS, onCheckRun } from './on-check-run.ts';
import { CHECK_SUITE_EVENTS, onCheckSuite } from './on-check-suite.ts';
import { onComment } from './on-comment.ts';
import { INSTALLATION_EVENTS, onInstallation } from './on-installation.ts';
import { onPullRequest, onPullRequestClosed, PULL_REQUEST_EVENTS } from './on-pull-request.ts';
import { onPush } from './on-push.ts';
import { onReview, REVIEW_EVENTS } from './on-review.ts';

export type { HandlerDeps } from './app-services.ts';

export interface RegisteredHandlers {
  /** An installation client for one repository (what a delivery would get), for work not triggered by one. */
  clientFor: (owner: string, repo: string, installationId: number) => GitHubClient;
  dispatchContext: (client: GitHubClient, engines: Engines) => DispatchContext;
  /** What the handlers share, for work no delivery starts (scheduled runs). */
  services: AppServices;
  /** An installation's token, for the source fetcher (app/github/source-access.ts). */
  installationToken: (installationId: number) => Promise<string>;
}

/**
 * Registers one handler per event (each in its own file). Every handler re-reads what it decides
 * on (the pull request's current head, reviews, files at a SHA), so a late or repeated event
 * cannot make the app act on stale state.
 */
export function registerHandlers(probot: Probot, deps: HandlerDeps): RegisteredHandlers {
  const services = createAppServices(probot, deps);
  probot.on('push', onPush(services));
  probot.on([...PULL_REQUEST_EVENTS], onPullRequest(services));
  probot.on('pull_request.closed', onPullRequestClosed(services));
  probot.on([...REVIEW_EVENTS], onReview(services));
  probot.on([...CHECK_SUITE_EVENTS], onCheckSuite(services));
  probot.on([...CHECK_RUN_EVENTS], onCheckRun(services));
  probot.on([...INSTALLATION_EVENTS], onInstallation());
  probot.on('issue_comment.created', onComment(services));
  return {
    clientFor: services.clientOf,
    dispatchContext: services.dispatchContext,
    services,
    installationToken: services.installationToken,
  };
}
