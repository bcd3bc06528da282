import type { TaskContext } from './define-task.ts';
import { TaskError } from './errors.ts';

/**
 * An optional secret: its value when the manifest passed it in `env:`, else undefined (for a
 * task that works with or without credentials, as a NATS or S3 client does). Any other failure
 * of `ctx.secret` still throws.
 */
export function secretIfGiven(ctx: Pick<TaskContext, 'secret'>, name: string): string | undefined {
  try {
    return ctx.secret(name);
  } catch (error) {
    if (error instanceof TaskError && error.code === 'secret_missing') return undefined;
    throw error;
  }
}
