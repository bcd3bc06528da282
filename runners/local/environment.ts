/**
 * The environment a task starts with. The engine's own environment is NOT inherited: it holds
 * the engine's credentials (GitHub tokens, database URLs, cloud keys, MAESTRO_* settings) that a
 * task must only see when its manifest passes them, and a task whose behaviour depends on
 * undeclared variables would make cache keys and replays lie. So a task gets a minimal base
 * (PATH, HOME, LANG, TMPDIR, taken by a surface from its environment and passed in), then the
 * request's resolved env, then MAESTRO_OUTPUT, MAESTRO_MESSAGES, MAESTRO_ARTIFACTS (and MAESTRO_STATE on a retry), which
 * always win (docs/task-protocol.md).
 */
export const BASE_ENV_NAMES = ['PATH', 'HOME', 'LANG', 'TMPDIR'] as const;

export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Picks the base variables out of an environment (a surface calls this with process.env). */
export function baseEnvFrom(env: Record<string, string | undefined>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of BASE_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined) base[name] = value;
  }
  return base;
}

export function taskEnv(
  base: Record<string, string>,
  requested: Record<string, string>,
  files: { output: string; messages: string; state?: string },
  artifactsDir: string,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    ...base,
    ...requested,
    MAESTRO_OUTPUT: files.output,
    MAESTRO_MESSAGES: files.messages,
    MAESTRO_ARTIFACTS: artifactsDir,
  };
  // Only the engine hands a checkpoint in: a manifest's own MAESTRO_STATE never reaches the task.
  if (files.state === undefined) delete env.MAESTRO_STATE;
  else env.MAESTRO_STATE = files.state;
  return env;
}
