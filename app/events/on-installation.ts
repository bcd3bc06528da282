import type { Context } from 'probot';

export const INSTALLATION_EVENTS = ['installation', 'installation_repositories'] as const;

/** Installations need no state: every event names its installation. Log them for operators. */
export function onInstallation() {
  return async (context: Context<(typeof INSTALLATION_EVENTS)[number]>): Promise<void> => {
    context.log.info(
      { installation: context.payload.installation.id, action: context.payload.action },
      'installation changed',
    );
  };
}
