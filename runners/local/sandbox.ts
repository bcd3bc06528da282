/**
 * The local runner's sandbox: bubblewrap (Debian `bubblewrap`), with new user, mount, pid, IPC,
 * UTS and cgroup namespaces and, unless the attempt may use it, a new (empty) network namespace.
 * A task sees the system's read-only directories, the few read-only paths the operator adds (the
 * Node binary and the catalog's task code), and its own workspace read-write. Nothing else of the
 * host exists inside: not the data directory, not the keys, not other attempts, not the
 * databases. Visibility is decided by mounts, never by checking paths a task names.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
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

/** System directories every task may read. /etc is not among them: see ETC_ENTRIES. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The /etc entries tools need (name resolution, users, TLS roots, Debian's alternatives symlinks,
 * time zone, the dynamic linker cache); never the whole of /etc, which holds host secrets (shadow,
 * SSH host keys) a task running as the host's user would otherwise read as their owner.
 */
const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'group',
  'host.conf',
  'hosts',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'passwd',
  'protocols',
  'resolv.conf',
  'services',
  'ssl',
  'timezone',
];

/** The uid and gid a task has inside: never 0, so tools do not believe they are root. */
const SANDBOX_ID = '1000';

function within(path: string, parent: string): boolean {
  const rel = relative(parent, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/** The host's root layout: merged-/usr symlinks stay symlinks, real directories are bound. */
function systemArgs(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    let stat;
    try {
      stat = lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', relative('/', realpathSync(dir)), dir);
    else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  for (const name of ETC_ENTRIES) {
    const path = join('/etc', name);
    if (!existsSync(path)) continue;
    // resolv.conf is often a link into /run: bind what it points at, at the /etc path.
    args.push('--ro-bind', realpathSync(path), path);
  }
  return args;
}

/** The bwrap arguments for one attempt, up to and including `--`; the command follows. */
export function bwrapArgs(layout: SandboxLayout): string[] {
  const args = ['--unshare-all'];
  if (layout.network === 'on') args.push('--share-net');
  // --die-with-parent: the sandbox ends if its launcher (or Node) dies. --new-session: the task
  // leads its own session inside, which is also the group the runner signals (see signalSandbox).
  args.push('--die-with-parent', '--new-session', '--uid', SANDBOX_ID, '--gid', SANDBOX_ID);
  args.push(...systemArgs(), '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  const readOnly = [...new Set(layout.readOnly)]
    .filter((p) => existsSync(p))
    .sort((a, b) => a.length - b.length);
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
