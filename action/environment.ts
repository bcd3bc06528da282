/** What the Action knows of its step, read once from process.env by index.ts. */
export interface ActionEnvironment {
  /** Where relative `path` inputs are resolved (the step's working directory). */
  cwd: string;
  /** The repository root (GITHUB_WORKSPACE): annotation paths are relative to it. */
  workspace: string;
  /** Whether GITHUB_STEP_SUMMARY is set (outside Actions there is nowhere to write one). */
  hasSummary: boolean;
  /**
   * GITHUB_ACTIONS=true: the job's VM is the sandbox, so the local runner may run tasks without
   * bubblewrap here (its `job-vm` mode); the summary says which applies on this job.
   */
  inActions?: boolean;
  /** RUNNER_TEMP (else the system temp directory): default receipts and data directories. */
  runnerTemp: string;
  /** The step's environment, read once by index.ts (signing, secrets, the event, PATH/HOME). */
  env: Record<string, string | undefined>;
}
