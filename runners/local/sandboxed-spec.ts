/**
 * Turns a plain spawn spec into one that starts the same command inside bubblewrap. Both spawn
 * paths (the C launcher and child_process) then start bwrap exactly as they would start the task,
 * so the sandbox costs no change to either. The workspace is one list of writable binds (the
 * attempt's directory, which holds its layer of the source); the artifacts it receives
 * ($MAESTRO_ARTIFACTS) are bound read-only after it, so a later runner that
 * makes one sandbox per run with a launcher inside can reuse `bwrapArgs` as it is.
 */
import { relative, isAbsolute } from 'node:path';
import type { RunnerStartRequest } from '../../core/index.ts';
import { resolveProgram } from './isolation.ts';
import { bwrapArgs, type Isolation, type SandboxLayout } from './sandbox.ts';
import type { SpawnSpec } from './spawner.ts';

export interface SandboxConfig {
  bwrap: string;
  readOnly: string[];
  hidden: string[];
}

function inside(path: string, parent: string): boolean {
  const rel = relative(parent, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The sandbox layout of one attempt: its workspace writable, the artifacts it receives read-only,
 * the operator's read-only and hidden paths, its network, its HOME. Exported so that the
 * benchmark's peer (ninja running each command in bubblewrap) uses exactly this layout.
 */
export function attemptLayout(
  request: Pick<RunnerStartRequest, 'workDir' | 'artifactsDir'>,
  network: Isolation['network'],
  config: Pick<SandboxConfig, 'readOnly' | 'hidden'>,
  cwd: string,
  home: string | undefined,
): SandboxLayout {
  // What the tasks it needs kept: read-only, so nothing one task writes reaches another.
  const inputs = inside(request.artifactsDir, request.workDir) ? [] : [request.artifactsDir];
  return {
    writable: [request.workDir],
    inputs,
    readOnly: config.readOnly,
    hidden: config.hidden,
    network,
    cwd,
    ...(home !== undefined ? { home } : {}),
  };
}

export function sandboxedSpec(
  plain: SpawnSpec,
  request: Pick<RunnerStartRequest, 'workDir' | 'artifactsDir'>,
  isolation: Isolation,
  config: SandboxConfig,
): SpawnSpec | { code: string; message: string } {
  const [program, ...args] = plain.argv;
  if (program === undefined || program === '' || program.includes('\0')) return plain; // invalidSpec reports it, as on the plain path
  const found = resolveProgram(program, plain.env.PATH, plain.cwd);
  if (!found.ok) return { code: found.code, message: `spawn ${program} failed: ${found.code}` };
  // The engine's TMPDIR is not inside; /tmp is the sandbox's own empty tmpfs.
  const env: Record<string, string> = { ...plain.env };
  if (env.TMPDIR !== undefined) env.TMPDIR = '/tmp';
  const layout = attemptLayout(request, isolation.network, config, plain.cwd, env.HOME);
  return {
    argv: [config.bwrap, ...bwrapArgs(layout), found.path, ...args],
    env,
    cwd: plain.cwd,
    sandboxed: true,
  };
}
