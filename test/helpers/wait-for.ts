/**
 * Polls `probe` until it answers (not undefined), or fails naming `what`. The deadline is
 * generous on purpose: it bounds a hung test, it is not a timing assertion (CI machines are
 * loaded; a suite running beside this one can stall a child process for seconds).
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
