/**
 * The local runner's sandbox: bubblewrap (Debian `bubblewrap`), with new user, mount, pid, IPC,
 * UTS and cgroup namespaces and, unless the attempt may use it, a new (empty) network namespace.
 * A task sees the system's read-only directories, the few read-only paths the operator adds (the
 * Node binary and the catalog's task code), and its own workspace read-write. Nothing else of the
 * host exists inside: not the data directory, not the keys, not other attempts, not the
 * databases. Visibility is decided by mounts, never by checking paths a task names.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { hostLayoutArgs, SYSTEM_DIRS } from './host-layout.ts';
import { Fault, MaestroError, type AttemptIsolation, type NetworkAccess } from '../../core/index.ts';

/**
 * `bwrap` (default): every attempt runs in the sandbox; where none can be made, every attempt is
 * refused. `none`: the operator said so in the runners config: trusted attempts run without a
 * sandbox (the log and receipts say so), untrusted ones are refused. `job-vm`: the host is a
 * disposable sandbox itself (a GitHub Actions job VM): bubblewrap when it can be made, else
 * unsandboxed, stated in the log, the receipts and the job summary.
 */
export type SandboxMode = 'bwrap' | 'none' | 'job-vm';

/** What a local attempt runs in; recorded in its log and receipt. */
export type Isolation = AttemptIsolation & { sandbox: 'bwrap' | 'none' };

/** `granted`: tasks that say `hostAccess: true` run on the host (runners config `local.hostAccess`). */
export type HostAccessGrant = 'granted' | 'denied';

/** A task asked for host access the runner was not granted (or may not give). Not retryable. */
export class HostAccessRefusedError extends MaestroError {
  constructor(message: string) {
    super('host_access_not_granted', message, {
      fault: Fault.user,
      hint: 'only the operator grants host access: `local: { hostAccess: granted }` in the runners config (--runners or MAESTRO_RUNNERS_CONFIG), for trusted runs; prefer acting through an API',
      retryable: false,
    });
  }
}

/** Where no sandbox can be made for an attempt that needs one. Not retryable: the host must change. */
export class SandboxUnavailableError extends MaestroError {
  constructor(message: string, hint: string) {
    super('sandbox_unavailable', message, { hint, retryable: false });
  }
}

export interface SandboxLayout {
  /** Writable binds at the same path inside: the attempt's workspace (cwd, the source's layer). */
  writable: string[];
  /**
   * Read-only binds made after the writable ones, at the same path: the artifacts the task
   * receives ($MAESTRO_ARTIFACTS), which sit under the hidden data directory.
   */
  inputs?: string[];
  /** Extra read-only binds at the same path inside (e.g. the Node install, the task catalog). */
  readOnly: string[];
  /**
   * Paths masked by an empty tmpfs when they lie under a read-only bind: the data directory and
   * key directories, so that binding a parent (an install that holds `.maestro/`) cannot expose them.
   */
  hidden: string[];
  network: NetworkAccess;
  cwd: string;
  /** The task's HOME: an empty tmpfs unless it is inside the workspace. */
  home?: string;
}

/** The uid and gid a task has inside: never 0, so tools do not believe they are root. */
const SANDBOX_ID = '1000';

function within(path: string, parent: string): boolean {
  const rel = relative(parent, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/** The bwrap arguments for one attempt, up to and including `--`; the command follows. */
export function bwrapArgs(layout: SandboxLayout): string[] {
  const args = ['--unshare-all'];
  if (layout.network === 'on') args.push('--share-net');
  // --die-with-parent: the sandbox ends if its launcher (or Node) dies. --new-session: the task
  // leads its own session inside, which is also the group the runner signals (see signalSandbox).
  args.push('--die-with-parent', '--new-session', '--uid', SANDBOX_ID, '--gid', SANDBOX_ID);
  args.push(...hostLayoutArgs(), '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  // A path inside another read-only bind is already visible, read-only: binding it again only
  // costs a mount (the Node binary inside the installation was two of them).
  const readOnly: string[] = [];
  for (const path of [...new Set(layout.readOnly)].sort((a, b) => a.length - b.length))
    if (!readOnly.some((bound) => within(path, bound)) && existsSync(path)) readOnly.push(path);
  for (const path of readOnly) args.push('--ro-bind', path, path);
  for (const path of [...new Set(layout.hidden)].sort((a, b) => a.length - b.length)) {
    if (!readOnly.some((bound) => within(path, bound)) || !existsSync(path)) continue;
    if (statSync(path).isDirectory()) args.push('--tmpfs', path);
    else args.push('--ro-bind', '/dev/null', path);
  }
  const writable = [...new Set(layout.writable)].sort((a, b) => a.length - b.length);
  const home = layout.home;
  // HOME gets an empty tmpfs of its own, unless that would cover the workspace, /tmp (already
  // one), the root or a system directory (HOME=/ or /usr would hide what every task needs).
  if (
    home &&
    isAbsolute(home) &&
    home !== '/' &&
    !writable.some((w) => within(home, w) || within(w, home)) &&
    !['/tmp', ...SYSTEM_DIRS].some((d) => within(home, d))
  )
    args.push('--tmpfs', home);
  for (const path of writable) args.push('--bind', path, path);
  for (const path of [...new Set(layout.inputs ?? [])].filter((p) => existsSync(p)))
    args.push('--ro-bind', path, path);
  // The sandbox's own root (a tmpfs holding the mount points) read-only too: a task writes only
  // its workspace, /tmp and its HOME, never a look-alike of a host path such as the database.
  args.push('--remount-ro', '/', '--chdir', layout.cwd, '--');
  return args;
}

export type SandboxProbe = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Tries to make one sandbox (`bwrap … -- true`), once per runner: bwrap missing, or a host that
 * forbids unprivileged user namespaces (AppArmor, a container without them), fails here with
 * bwrap's own words instead of failing every task later.
 */
export function probeSandbox(bwrap = 'bwrap'): SandboxProbe {
  const layout: SandboxLayout = { writable: [], readOnly: [], hidden: [], network: 'none', cwd: '/' };
  const result = spawnSync(bwrap, [...bwrapArgs(layout), 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason:
        code === 'ENOENT'
          ? `bubblewrap (${bwrap}) is not installed`
          : `bubblewrap (${bwrap}) could not run: ${result.error.message}`,
    };
  }
  if (result.status !== 0)
    return {
      ok: false,
      reason: `bubblewrap cannot make a sandbox here: ${(result.stderr || `exit ${result.status}`).trim()}`,
    };
  return { ok: true, path: bwrap };
}
