/**
 * The local runner's private folders in RAM (/dev/shm when writable): the launcher's channel
 * (`launcher`), an unsandboxed attempt's protocol files (`protocol`), the sandbox's /etc views
 * (`sandbox`). Each is removed when its process closes or exits, but a process killed with
 * SIGKILL, by the OOM killer or by a crash runs no exit code, and on a long-lived host (a server
 * restarted on every deploy, a CI runner) such leftovers filled tmpfs for ever.
 *
 * So each folder's name carries its owner: `maestro-<kind>-<pid>-<start>-<pidns>-XXXXXX`, the
 * start being field 22 of /proc/<pid>/stat (clock ticks since boot: a reused pid has another)
 * and `pidns` the inode of the owner's pid namespace (a pid means something only there). The
 * name is made in the same mkdtemp call as the folder, so no folder ever exists without it.
 * A runner's first start in a process sweeps its root once (`sweepOnce`); a folder is removed only
 * when all of this holds: the name matches exactly, it is a directory (lstat: a symlink is never
 * followed, nor removed), it is ours (uid), it names our pid namespace, and its pid is gone or
 * now belongs to a process started at another time. Anything unreadable counts as alive.
 * The root must be sticky or writable by us alone: then nobody but us (and root) can swap our
 * folder for a link between the lstat and the removal; elsewhere nothing is swept.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export type PrivateDirKind = 'launcher' | 'protocol' | 'sandbox';

const NAME = /^maestro-(launcher|protocol|sandbox)-(\d+)-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;
/** Removals per sweep: a start costs bounded time however many leftovers there are. */
const MAX_REMOVALS = 1000;

/** Field 22 of /proc/<pid>/stat (after the parenthesised name, which may hold spaces), or
 * undefined when there is no such process; 'unknown' when it cannot be read (counts as alive). */
export function processStartTime(pid: number | 'self'): string | undefined | 'unknown' {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unknown';
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, runs no code
  return fields[19] ?? 'unknown';
}

function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

let owner: { pid: number; tag: string; ns: string } | undefined;
function self(): { pid: number; tag: string; ns: string } {
  if (owner?.pid === process.pid) return owner;
  const start = processStartTime('self');
  const ns = pidNamespace();
  const known = start !== undefined && start !== 'unknown';
  owner = { pid: process.pid, ns, tag: `${process.pid}-${known ? start : 0}-${ns}` };
  return owner;
}

/** A new private folder (0700) under `root`, named by its owner. */
export function makePrivateDir(root: string, kind: PrivateDirKind): string {
  return mkdtempSync(join(root, `maestro-${kind}-${self().tag}-`));
}

/** Whether the process a folder names is certainly gone (never true for what cannot be read). */
function ownerGone(pid: number, start: string, ns: string, me: { pid: number; ns: string }): boolean {
  if (start === '0' || ns === '0' || ns !== me.ns || pid === me.pid) return false;
  const now = processStartTime(pid);
  return now === undefined || (now !== 'unknown' && now !== start);
}

/** Sticky (/dev/shm, /tmp) or writable by its owner alone: see the module comment. */
function safeRoot(root: string, uid: number): boolean {
  try {
    const s = lstatSync(root);
    return s.isDirectory() && ((s.mode & 0o1000) !== 0 || ((s.mode & 0o022) === 0 && s.uid === uid));
  } catch {
    return false;
  }
}

/** Removes the leftovers of dead processes under `root`; returns how many. */
export function sweepLeftovers(root: string): number {
  const uid = process.getuid?.();
  if (uid === undefined || !safeRoot(root, uid)) return 0;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 0;
  }
  const me = self();
  let removed = 0;
  for (const name of names) {
    if (removed >= MAX_REMOVALS) break; // the rest at the next start
    const m = NAME.exec(name);
    if (!m || !ownerGone(Number(m[2]), m[3]!, m[4]!, me)) continue;
    const path = join(root, name);
    try {
      const s = lstatSync(path);
      if (!s.isDirectory() || s.uid !== uid) continue; // a link, a file, another user's: untouched
      rmSync(path, { recursive: true, force: true }); // removes links inside, never their targets
      removed++;
    } catch {
      // gone already, or not removable: the next start tries again
    }
  }
  return removed;
}

const swept = new Set<string>();
/** `sweepLeftovers` at most once per root per process. */
export function sweepOnce(root: string): void {
  if (swept.has(root)) return;
  swept.add(root);
  sweepLeftovers(root);
}
