import { MaestroError, SystemError, UsageError, type MaestroErrorOptions } from '../core/index.ts';

/** Stable codes for the app's own failures. */
export const AppErrorCode = {
  missingSetting: 'app_missing_setting',
  badSetting: 'app_bad_setting',
  github: 'app_github_failed',
  store: 'app_store_failed',
} as const;
export type AppErrorCode = (typeof AppErrorCode)[keyof typeof AppErrorCode];

/** The app cannot start: a setting is missing or wrong. The message names the variable. */
export class AppConfigError extends UsageError {
  readonly setting: string;
  constructor(setting: string, message: string, options: MaestroErrorOptions = {}) {
    super(message, { details: { setting }, ...options });
    this.setting = setting;
  }
}

/** A GitHub API call failed after its retries. */
export class GitHubCallError extends SystemError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super(AppErrorCode.github, message, { retryable: true, ...options });
  }
}

export function isAppError(error: unknown): error is MaestroError {
  return error instanceof MaestroError;
}
