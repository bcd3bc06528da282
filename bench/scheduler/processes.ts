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

/**
 * CPU seconds a process and the children it has reaped have used: for `maestro server` that
 * includes every sandboxed task (bwrap, sh) it waited for.
 */
export function cpuSeconds(pid: number): number {
  const t = times(pid);
  return t.own + t.children;
}

/**
 * CPU seconds of a PostgreSQL server: the postmaster, the backends it has reaped, and the live
 * ones (connections still open). Read from its data directory's postmaster.pid.
 */
export function postgresCpuSeconds(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuSeconds(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || !existsSync(`/proc/${entry}/stat`)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]!.split(' ')[1]);
      if (ppid === postmaster) total += times(Number(entry)).own;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
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
