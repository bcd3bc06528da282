/**
 * The leftovers of killed processes under the runner's RAM root are removed at the next runner
 * start; nothing of a live process, another user or another name is touched, and no link is
 * followed. Real processes are killed with SIGKILL (they run no exit code).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalRunner } from './local-runner.ts';
import { makePrivateDir, processStartTime, sweepLeftovers } from './private-dirs.ts';

const made: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function root(): string {
  const dir = mkdtempSync(join(tmpdir(), 'private-dirs-'));
  made.push(dir);
  return dir;
}
const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]!;

/** A real process that makes its private folder under `at` the way the runner does, then waits. */
async function child(at: string): Promise<{ proc: ChildProcess; dir: string }> {
  const module = new URL('./private-dirs.ts', import.meta.url).pathname;
  const script = `import { makePrivateDir } from ${JSON.stringify(module)};
    const dir = makePrivateDir(${JSON.stringify(at)}, 'launcher');
    process.stdout.write(dir + '\\n'); setInterval(() => {}, 1000);`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  writeFileSync(join(dir, '1.output'), 'x=1\n');
  return { proc, dir };
}
async function kill9(proc: ChildProcess): Promise<void> {
  const ended = new Promise((resolve) => proc.on('exit', resolve));
  proc.kill('SIGKILL');
  await ended; // reaped: the pid is gone
}

describe('leftover private folders', () => {
  it('a folder of a child killed with SIGKILL is removed by the next runner start; a live one stays', async () => {
    const at = root();
    const dead = await child(at);
    const live = await child(at);
    expect(lstatSync(dead.dir).isDirectory()).toBe(true);
    await kill9(dead.proc);
    expect(existsSync(dead.dir)).toBe(true); // no exit code ran
    const runner = createLocalRunner({ logDir: at, spawn: 'node' });
    expect(existsSync(dead.dir)).toBe(false);
    expect(readFileSync(join(live.dir, '1.output'), 'utf8')).toBe('x=1\n'); // another live maestro's
    await runner.close();
  });

  it('a folder naming a live pid with another start time (the pid was reused) is removed', () => {
    const at = root();
    const pid = process.ppid; // alive
    const start = processStartTime(pid);
    expect(typeof start).toBe('string');
    const reused = join(at, `maestro-protocol-${pid}-${Number(start) + 1}-${ns}-Ab12Cd`);
    const same = join(at, `maestro-protocol-${pid}-${start}-${ns}-Ab12Cd`);
    mkdirSync(reused);
    mkdirSync(same);
    expect(sweepLeftovers(at)).toBe(1);
    expect(existsSync(reused)).toBe(false);
    expect(existsSync(same)).toBe(true);
  });

  it('never follows a planted link named like ours, nor a link inside a leftover', () => {
    const at = root();
    const valuable = join(root(), 'valuable');
    mkdirSync(valuable);
    writeFileSync(join(valuable, 'keep'), 'precious');
    const dead = `999999999-1-${ns}`; // beyond pid_max: never a live pid
    const planted = join(at, `maestro-launcher-${dead}-Zz9Zz9`);
    symlinkSync(valuable, planted);
    const leftover = join(at, `maestro-sandbox-${dead}-Yy8Yy8`);
    mkdirSync(join(leftover, 'etc-1'), { recursive: true });
    symlinkSync(valuable, join(leftover, 'etc-1', 'link'));
    expect(sweepLeftovers(at)).toBe(1);
    expect(existsSync(leftover)).toBe(false);
    expect(lstatSync(planted).isSymbolicLink()).toBe(true); // the link itself is not ours to remove
    expect(readFileSync(join(valuable, 'keep'), 'utf8')).toBe('precious');
  });

  it('touches no other name, no other pid namespace, no unknown owner and no other user', () => {
    const at = root();
    const dead = `999999999-1`;
    const kept = [
      'maestro-launcher-05GsPP', // the names before owners were recorded: nothing says who owns them
      `maestro-launcher-${dead}-${ns}-abc`, // not mkdtemp's suffix
      `maestro-other-${dead}-${ns}-Ab12Cd`,
      `maestro-launcher-${dead}-${Number(ns) + 1}-Ab12Cd`, // a pid of another namespace
      `maestro-launcher-999999999-0-${ns}-Ab12Cd`, // start time unknown when it was made
    ];
    for (const name of kept) mkdirSync(join(at, name));
    const file = join(at, `maestro-protocol-${dead}-${ns}-Xx1Xx1`);
    writeFileSync(file, '');
    const theirs = join(at, `maestro-protocol-${dead}-${ns}-Ww2Ww2`);
    mkdirSync(theirs);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(theirs, 65534, 65534);
    expect(sweepLeftovers(at)).toBe(asRoot ? 0 : 1);
    for (const name of kept) expect(existsSync(join(at, name))).toBe(true);
    expect(existsSync(file)).toBe(true);
    if (asRoot) expect(existsSync(theirs)).toBe(true);
  });

  it('sweeps nothing under a root others may write that is not sticky', () => {
    const at = root();
    const left = join(at, `maestro-launcher-999999999-1-${ns}-Ab12Cd`);
    mkdirSync(left);
    // mkdtemp made it 0700; a shared, non-sticky root lets another user swap our folder for a link
    chmodSync(at, 0o777);
    expect(sweepLeftovers(at)).toBe(0);
    expect(existsSync(left)).toBe(true);
    chmodSync(at, 0o1777);
    expect(sweepLeftovers(at)).toBe(1);
  });

  it('names each folder by its owner', () => {
    const at = root();
    const dir = makePrivateDir(at, 'protocol');
    expect(dir.slice(at.length + 1)).toMatch(
      new RegExp(`^maestro-protocol-${process.pid}-${processStartTime('self')}-${ns}-[A-Za-z0-9]{6}$`),
    );
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    expect(sweepLeftovers(at)).toBe(0); // our own
  });
});
