import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AppConfigError } from '../errors.ts';

/** The app.yml shipped with the package (the repository root's; dist/app.yml once built). */
export const PACKAGED_APP_YML = join(import.meta.dirname, '..', '..', 'app.yml');

export interface ManifestOptions {
  /** Where this `maestro app` is reached, e.g. `https://maestro.example.com` (no trailing slash). */
  publicUrl: string;
  webhookPath: string;
  /** A smee-style relay (WEBHOOK_PROXY_URL): GitHub delivers there, the app pulls from it. */
  webhookProxyUrl?: string;
}

/** app.yml as probot looks for it: the working directory's when there is one, else the package's. */
export function findAppYml(cwd: string): string {
  const local = join(cwd, 'app.yml');
  return existsSync(local) ? local : PACKAGED_APP_YML;
}

/**
 * The GitHub App manifest the setup page posts to GitHub: app.yml with the addresses of this
 * instance filled in, the webhook URL (the relay when there is one), and where GitHub sends the
 * browser back with the code. Unlike probot's, app.yml's placeholder hook URL is replaced, and
 * the webhook goes to the webhook path rather than `/`.
 */
export function buildManifest(appYmlPath: string, options: ManifestOptions): Record<string, unknown> {
  let manifest: unknown;
  try {
    manifest = parse(readFileSync(appYmlPath, 'utf8'));
  } catch (cause) {
    throw new AppConfigError('app.yml', `${appYmlPath} cannot be read as YAML: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))
    throw new AppConfigError('app.yml', `${appYmlPath} is not a GitHub App manifest (a mapping)`);
  const fields = manifest as Record<string, unknown>;
  const hook = (fields.hook_attributes ?? {}) as Record<string, unknown>;
  return {
    ...fields,
    hook_attributes: {
      ...hook,
      url: options.webhookProxyUrl ?? `${options.publicUrl}${options.webhookPath}`,
      active: true,
    },
    redirect_url: `${options.publicUrl}/probot/setup`,
  };
}
