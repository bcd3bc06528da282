/** Process helpers of bench/scheduler: CPU time from /proc and waiting for a log line. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** utime, stime, cutime, cstime of a process (clock ticks → seconds; Linux /proc). */
function times(pid: number): { own: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return {
    own: (Number(fields[11]) + Number(fields[12])) / 100,
    children: (Number(fields[13]) + Number(fields[14])) / 100,
  };
}

/** A process's CPU seconds and the children it has reaped. */
function reapedCpuSeconds(pid: number): number {
  const t = times(pid);
  return t.own + t.children;
}

/** Parent of every live process (/proc), for the walks below. */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return children;
}

/**
 * CPU seconds of a process tree: the process, every live descendant, and the children each has
 * reaped. For `maestro server` that includes its long-lived launcher (runners/local) and every
 * sandboxed task (bwrap, the task) the launcher has waited for: counting the server's reaped
 * children alone missed them all while the launcher lived, which is the whole measurement.
 */
export function cpuSeconds(pid: number): number {
  const children = parents();
  let total = 0;
  const walk = (p: number) => {
    try {
      total += reapedCpuSeconds(p);
    } catch {
      return; // ended meanwhile: its parent has reaped it (counted there) or will
    }
    for (const child of children.get(p) ?? []) walk(child);
  };
  walk(pid);
  return total;
}

/**
 * CPU seconds of a PostgreSQL server: the postmaster, the backends it has reaped, and the live
 * ones (connections still open). Read from its data directory's postmaster.pid.
 */
export function postgresCpuSeconds(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return cpuSeconds(postmaster);
}

/** Polls a file until a line matches, returning the first capture group. */
export async function waitForLine(file: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const match = pattern.exec(text);
    if (match) return match[1] ?? match[0];
    if (Date.now() > deadline)
      throw new Error(`no line matching ${pattern} in ${file} after ${timeoutMs} ms:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * CPU seconds of one process's threads by name (`/proc/<pid>/task/<tid>/stat`): the main thread
 * (its tid is the pid) as `main`, the rest by their name (V8's `V8Worker` GC/compile helpers,
 * libuv's `libuv-worker` pool, worker_threads as `node`…). The main thread is what limits a
 * Node server's rate; the other threads run beside it on the other core.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      byName.set(name, (byName.get(name) ?? 0) + seconds);
    } catch {
      // the thread ended between the listing and the read (its time is then lost: short-lived
      // threads are rare in a server that keeps its pools)
    }
  }
  return byName;
}
