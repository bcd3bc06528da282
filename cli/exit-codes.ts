/** The CLI's exit codes: a promise to scripts, never renumbered. */
export const ExitCode = {
  ok: 0,
  /** The input has errors (an invalid manifest, a failed run, a failed verification). */
  inputErrors: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** Something outside the input failed (store, runner backend); the message says what. */
  internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
