import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHostLayout, ETC_ENTRIES, hostLayoutArgs } from './host-layout.ts';
import { bwrapArgs } from './sandbox.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'host-layout-'));
  dirs.push(dir);
  return dir;
}

/** A fake /etc: allow-listed files, a link into /run, a directory, and secrets beside them. */
function fakeEtc(): { etc: string; run: string } {
  const root = temp();
  const etc = join(root, 'etc');
  const run = join(root, 'run');
  mkdirSync(etc);
  mkdirSync(run);
  writeFileSync(join(etc, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(etc, 'shadow'), 'root:$6$secret:19000::::::\n');
  mkdirSync(join(etc, 'ssh'));
  writeFileSync(join(etc, 'ssh', 'ssh_host_ed25519_key'), 'PRIVATE KEY\n');
  writeFileSync(join(run, 'resolv.conf'), 'nameserver 10.0.0.1\n');
  symlinkSync(join(run, 'resolv.conf'), join(etc, 'resolv.conf'));
  mkdirSync(join(etc, 'ssl', 'private'), { recursive: true });
  writeFileSync(join(etc, 'ssl', 'cert.pem'), 'CERT\n');
  writeFileSync(join(etc, 'ssl', 'private', 'host.key'), 'PRIVATE KEY\n');
  return { etc, run };
}

const viewOf = (args: string[]) => args[args.indexOf('/etc') - 1] as string;

describe('the host layout', () => {
  it('shows only the allow-listed /etc entries: files in one view, directories bound live', () => {
    const { etc } = fakeEtc();
    const layout = createHostLayout({ etc, viewRoot: temp() });
    const args = layout.args();
    const view = viewOf(args);
    expect(readdirSync(view).sort()).toEqual(['passwd', 'resolv.conf', 'ssl']);
    expect(readFileSync(join(view, 'resolv.conf'), 'utf8')).toBe('nameserver 10.0.0.1\n');
    expect(args.join(' ')).toContain(`--ro-bind ${join(etc, 'ssl')} /etc/ssl --tmpfs /etc/ssl/private`);
    expect(args.join(' ')).not.toContain('shadow');
    expect(args.join(' ')).not.toContain('ssh');
    layout.close();
  });

  it('is computed once, and a changed host file reaches the next sandbox after the recheck', () => {
    const { etc, run } = fakeEtc();
    let now = 0;
    const layout = createHostLayout({ etc, viewRoot: temp(), recheckMs: 1000, now: () => now });
    const first = layout.args();
    writeFileSync(join(run, 'resolv.conf'), 'nameserver 10.9.9.9\n');
    now = 500;
    expect(layout.args()).toBe(first); // inside the recheck window: not even a stat
    now = 1500;
    const second = layout.args();
    expect(viewOf(second)).not.toBe(viewOf(first));
    expect(readFileSync(join(viewOf(second), 'resolv.conf'), 'utf8')).toBe('nameserver 10.9.9.9\n');
    now = 3000;
    expect(layout.args()).toBe(second); // unchanged sources: the same view
    layout.close();
  });

  it('a real sandbox reads /etc/passwd but has no /etc/shadow and nothing off the allow-list', () => {
    const workDir = temp();
    const layout = { writable: [workDir], readOnly: [], hidden: [], network: 'none' as const, cwd: workDir };
    const run = (script: string) =>
      spawnSync('/usr/bin/bwrap', [...bwrapArgs(layout), '/bin/sh', '-c', script], { encoding: 'utf8' });
    const listed = run('ls -A /etc');
    expect(listed.status, listed.stderr).toBe(0);
    const names = listed.stdout.trim().split('\n');
    expect(names).toContain('passwd');
    for (const name of names) expect(ETC_ENTRIES).toContain(name);
    expect(run('cat /etc/passwd').stdout).toContain('root:');
    expect(run('cat /etc/shadow').status).not.toBe(0);
    expect(run('echo x > /etc/hosts').status).not.toBe(0);
    // The TLS directory is shown, its private keys are not (read as their owner before: the
    // sandbox maps the task to the engine's uid, root here).
    expect(run('ls /etc/ssl/certs | head -1').stdout.trim()).not.toBe('');
    if (existsSync('/etc/ssl/private')) expect(run('ls -A /etc/ssl/private').stdout.trim()).toBe('');
    expect(hostLayoutArgs()).toBe(hostLayoutArgs());
  });
});
