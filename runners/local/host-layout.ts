/**
 * The part of every sandbox that depends only on the host: the system directories (merged-/usr
 * links stay links) and /etc's allow-list. It used to be recomputed for every attempt (~50
 * lstat/realpath/stat calls each); now it is computed once per process and re-checked at most
 * once a second, so a host change (a new resolv.conf, an edited /etc/hosts) reaches the next
 * tasks within a second.
 *
 * /etc is not bound whole (it holds shadow and SSH host keys): only the allow-listed entries. A
 * bind per entry was 19 of the ~40 mounts each sandbox made, and bubblewrap's start costs the
 * kernel per mount (bench/run/RESULTS.md: the /etc binds were about half of a sandbox's start).
 * So the allow-listed regular files are copied into one private directory, "the /etc view",
 * bound read-only at /etc in one mount, and the allow-listed directories (TLS roots, Debian's
 * alternatives, ld.so.conf.d) are bound over it live, as before. What a task sees is the same
 * set of names with the same contents; nothing else of /etc exists inside.
 */
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  rmSync,
  statSync,
  accessSync,
  constants,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makePrivateDir, sweepOnce } from './private-dirs.ts';

/** System directories every task may read. /etc is not among them: see ETC_ENTRIES. */
export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The /etc entries tools need (name resolution, users, TLS roots, Debian's alternatives symlinks,
 * time zone, the dynamic linker cache); never the whole of /etc, which holds host secrets (shadow,
 * SSH host keys) a task running as the host's user would otherwise read as their owner.
 */
export const ETC_ENTRIES = [
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

/**
 * Inside the allow-listed directories, what is still a host secret: TLS private keys (Debian's
 * /etc/ssl/private, 0710 root:ssl-cert, readable to a task whose engine runs as root because
 * the sandbox maps the task to the engine's uid). Masked with an empty tmpfs.
 */
const MASKED = ['ssl/private'];

export interface HostLayoutOptions {
  /** The host's /etc (a test gives a directory of its own). */
  etc?: string;
  /** Where the /etc views are written. Default /dev/shm when writable, else the temp directory. */
  viewRoot?: string;
  /** How long a computed layout is trusted before its sources are checked again. */
  recheckMs?: number;
  now?: () => number;
}

export interface HostLayout {
  /** bwrap arguments for the system directories and /etc. */
  args(): string[];
  /** Removes the views written so far (also done when the process exits). */
  close(): void;
}

/** One entry of the allow-list as it is now: where it really is, and what it is. */
function entryState(etc: string, name: string): string {
  try {
    const real = realpathSync(join(etc, name));
    const s = statSync(real);
    return `${name}\0${real}\0${s.isDirectory() ? 'd' : 'f'}\0${s.ino}\0${s.size}\0${s.mtimeMs}\0${s.ctimeMs}`;
  } catch {
    return `${name}\0-`; // missing or dangling: not shown
  }
}

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
  return args;
}

function defaultViewRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

export function createHostLayout(options: HostLayoutOptions = {}): HostLayout {
  const etc = options.etc ?? '/etc';
  const recheckMs = options.recheckMs ?? 1000;
  const now = options.now ?? Date.now;
  const system = systemArgs();
  let container: string | undefined;
  let views = 0;
  let cached: { signature: string; args: string[]; view: string; checkedAt: number } | undefined;
  const cleanup = () => {
    if (container) rmSync(container, { recursive: true, force: true });
    container = undefined;
  };

  /** Writes a new /etc view (old ones stay: an attempt being started may still name one). */
  const build = (states: string[]): { view: string; args: string[] } => {
    if (container && !existsSync(container)) container = undefined; // someone cleaned the temp dir
    if (!container) {
      const root = options.viewRoot ?? defaultViewRoot();
      sweepOnce(root); // the views of processes killed without their exit handler
      container = makePrivateDir(root, 'sandbox');
      process.once('exit', cleanup);
    }
    const view = join(container, `etc-${++views}`);
    mkdirSync(view, { mode: 0o755 });
    const live: string[] = [];
    for (const state of states) {
      const [name, real, kind] = state.split('\0') as [string, string, string?];
      if (real === '-') continue;
      const at = join('/etc', name);
      if (kind === 'd') {
        mkdirSync(join(view, name)); // the mount point of its live bind
        live.push('--ro-bind', real, at);
        for (const masked of MASKED.filter((m) => m.startsWith(`${name}/`)))
          if (existsSync(join(real, masked.slice(name.length + 1))))
            live.push('--tmpfs', join('/etc', masked));
        continue;
      }
      try {
        copyFileSync(real, join(view, name));
      } catch {
        live.push('--ro-bind', real, at); // unreadable to copy: bind it as it is
      }
    }
    return { view, args: ['--ro-bind', view, '/etc', ...live] };
  };

  return {
    args() {
      const t = now();
      if (cached && t - cached.checkedAt < recheckMs) return cached.args;
      const states = ETC_ENTRIES.map((name) => entryState(etc, name));
      const signature = states.join('\n');
      if (cached?.signature === signature && existsSync(cached.view)) cached.checkedAt = t;
      else {
        const made = build(states);
        cached = { signature, args: [...system, ...made.args], view: made.view, checkedAt: t };
      }
      return cached.args;
    },
    close: cleanup,
  };
}

let processLayout: HostLayout | undefined;

/** The host layout of this process, made on first use. */
export function hostLayoutArgs(): string[] {
  return (processLayout ??= createHostLayout()).args();
}
