export interface WaitOptions {
  /** Bounds a hung test; not a timing assertion (CI machines are loaded). Default 45 s. */
  timeoutMs?: number;
  intervalMs?: number;
  /** What to add to the timeout's message: the child's output, the state polled. */
  explain?: () => string;
}

/**
 * Polls `probe` until it answers (not undefined), or fails naming `what`. The default deadline
 * is generous and below vitest's 60 s test timeout, so a miss says what it waited for.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 45_000);
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const detail = options.explain ? `\n${options.explain()}` : '';
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
