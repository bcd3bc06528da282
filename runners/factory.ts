/**
 * How a runner kind is built from its section of the operator's runners file (docs/runners.md).
 * Each runner folder exports one RunnerFactory; runners/factories.ts lists them, one line each,
 * so adding a kind touches its folder and that line.
 */
import { InputError, type ImageGate, type Runner } from '../core/index.ts';

export interface RunnerFactoryContext {
  /** PATH, HOME, LANG, TMPDIR for tasks that inherit the host's (the surface picks them). */
  baseEnv: Record<string, string>;
  /** Paths no task may see (the data directory, secrets files, signing keys and their folders). */
  hiddenPaths: string[];
  /**
   * The local runner's sandbox when its section names none: `bwrap`, or `job-vm` inside GitHub
   * Actions (the job's VM is the sandbox; bubblewrap when it works there).
   */
  localSandbox: 'bwrap' | 'job-vm';
  /**
   * The operator's image policy (docs/supply-chain.md), when the runners file has one: the
   * container and Kubernetes runners verify each image and run its digest.
   */
  imageGate?: ImageGate;
}

export interface RunnerFactory {
  /**
   * Builds the runner from its section (a mapping, possibly empty). Throws InputError
   * `runner_config_invalid` naming the bad key; the caller adds the file name.
   */
  create(section: Record<string, unknown>, context: RunnerFactoryContext): Runner;
  /**
   * Files of the section that hold secrets (a credentials file): the runtime hides them from every
   * task, as it hides the data directory and the keys.
   */
  secretFiles?(section: Record<string, unknown>): string[];
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalidRunnerConfig(message: string, hint?: string): InputError {
  return new InputError('runner_config_invalid', message, hint ? { hint } : {});
}

/**
 * The shape every section with resource classes shares: `resourceClasses` a mapping of mappings
 * (tasks ask for `small` unless the manifest says otherwise).
 */
export function requireResourceClasses(kind: string, section: Record<string, unknown>): void {
  const classes = section.resourceClasses;
  if (!isMapping(classes))
    throw invalidRunnerConfig(
      `\`${kind}.resourceClasses\` must be a mapping of resource class names`,
      'tasks ask for `small` unless the manifest says otherwise, e.g. resourceClasses: { small: {} }',
    );
  for (const [name, rc] of Object.entries(classes))
    if (!isMapping(rc)) throw invalidRunnerConfig(`\`${kind}.resourceClasses.${name}\` must be a mapping`);
}
