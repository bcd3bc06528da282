/**
 * Decides, per attempt, what it runs in: the sandbox with the network on or off, no sandbox (only
 * where the operator or the GitHub Actions job VM allows it), or a refusal. Pure: the probe's
 * result comes in, so every branch is tested without a host that lacks bubblewrap.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { resolveNetwork, type NetworkAccess, type RunnerStartRequest } from '../../core/index.ts';
import {
  HostAccessRefusedError,
  SandboxUnavailableError,
  type HostAccessGrant,
  type Isolation,
  type SandboxMode,
  type SandboxProbe,
} from './sandbox.ts';

const INSTALL_HINT =
  'install bubblewrap (`bash scripts/setup/system-packages.sh`, or `apt-get install bubblewrap`) on a host that allows unprivileged user namespaces';

export function decideIsolation(
  mode: SandboxMode,
  probe: SandboxProbe,
  request: Pick<RunnerStartRequest, 'trust' | 'network' | 'hostAccess'>,
  configuredNetwork?: NetworkAccess,
  hostAccess: HostAccessGrant = 'denied',
): Isolation | SandboxUnavailableError | HostAccessRefusedError {
  if (request.hostAccess === true) return decideHostAccess(hostAccess, request, configuredNetwork);
  const network = resolveNetwork(request, configuredNetwork);
  if (mode !== 'none' && probe.ok) return { sandbox: 'bwrap', network };
  const why =
    mode === 'none' ? 'the runners config says `sandbox: none`' : (probe as { reason: string }).reason;
  if (mode === 'bwrap')
    return new SandboxUnavailableError(
      `the local runner refuses to run this task: no sandbox can be made (${why})`,
      `${INSTALL_HINT}; to run trusted work without a sandbox, say \`local: { sandbox: none }\` in the runners config (--runners or MAESTRO_RUNNERS_CONFIG)`,
    );
  if (mode === 'none' && request.trust !== 'trusted')
    return new SandboxUnavailableError(
      `the local runner refuses untrusted work without a sandbox (${why})`,
      `untrusted runs (pull requests from forks) need the sandbox: remove \`sandbox: none\` and ${INSTALL_HINT}`,
    );
  if (network === 'none')
    return new SandboxUnavailableError(
      `the local runner cannot cut this task off the network without a sandbox (${why})`,
      `${INSTALL_HINT}, or run it where the network may stay on`,
    );
  const reason = mode === 'job-vm' ? `the GitHub Actions job VM is the sandbox; ${why}` : why;
  return { sandbox: 'none', network, reason };
}

/**
 * A step that says `hostAccess: true` runs on the host, unsandboxed, only where the operator
 * granted it (`local: { hostAccess: granted }`), only in a trusted run, and only with the network
 * (a host step shares the host's). Everything else is refused: absent means denied.
 */
function decideHostAccess(
  grant: HostAccessGrant,
  request: Pick<RunnerStartRequest, 'trust' | 'network'>,
  configuredNetwork?: NetworkAccess,
): Isolation | HostAccessRefusedError {
  if (grant !== 'granted')
    return new HostAccessRefusedError(
      'the local runner refuses this task: it asks for host access (hostAccess: true) and the runners config does not grant it',
    );
  if (request.trust !== 'trusted')
    return new HostAccessRefusedError('the local runner refuses host access to an untrusted run');
  if (resolveNetwork(request, configuredNetwork) === 'none')
    return new HostAccessRefusedError(
      'the local runner cannot give host access to a task that must have no network (a host step shares the host network)',
    );
  return {
    sandbox: 'none',
    network: 'on',
    reason: 'host access granted by the runners config (`local.hostAccess: granted`)',
    hostAccess: true,
  };
}

export type ResolvedProgram = { ok: true; path: string } | { ok: false; code: 'ENOENT' | 'EACCES' };

function executable(path: string): 'ok' | 'ENOENT' | 'EACCES' {
  try {
    if (statSync(path).isDirectory()) return 'EACCES';
    accessSync(path, constants.X_OK);
    return 'ok';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : 'ENOENT';
  }
}

/**
 * argv[0] as an absolute path, found the way execvp does (the task's PATH, EACCES winning over
 * ENOENT), so a missing program is still a `runner_error` ENOENT when bwrap stands in front of it.
 * The sandbox shows host paths at the same place, so what is found here is what runs inside.
 */
export function resolveProgram(program: string, path: string | undefined, cwd: string): ResolvedProgram {
  if (program.includes('/')) {
    const full = isAbsolute(program) ? program : resolve(cwd, program);
    const state = executable(full);
    return state === 'ok' ? { ok: true, path: full } : { ok: false, code: state };
  }
  let denied = false;
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const full = dir === '' ? resolve(cwd, program) : join(resolve(cwd, dir), program);
    const state = executable(full);
    if (state === 'ok') return { ok: true, path: full };
    if (state === 'EACCES') denied = true;
  }
  return { ok: false, code: denied ? 'EACCES' : 'ENOENT' };
}
