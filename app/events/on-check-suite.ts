import type { Context } from 'probot';
import type { AppServices, RepoPayload } from './app-services.ts';

export const CHECK_SUITE_EVENTS = ['check_suite.requested', 'check_suite.rerequested'] as const;

/** GitHub asks for the suite's checks (again): validate its head commit. */
export function onCheckSuite(s: AppServices) {
  return async (context: Context<(typeof CHECK_SUITE_EVENTS)[number]>): Promise<void> => {
    await s.validate(
      s.clientFor(context.payload as unknown as RepoPayload),
      context.payload.check_suite.head_sha,
    );
  };
}
