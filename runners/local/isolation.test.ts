import { describe, expect, it } from 'vitest';
import { decideIsolation, resolveProgram } from './isolation.ts';
import { bwrapArgs, HostAccessRefusedError, SandboxUnavailableError } from './sandbox.ts';

const made = { ok: true as const, path: '/usr/bin/bwrap' };
const missing = { ok: false as const, reason: 'bubblewrap (/usr/bin/bwrap) is not installed' };
const trusted = { trust: 'trusted' as const };
const untrusted = { trust: 'untrusted' as const };

describe('decideIsolation', () => {
  it('sandboxes every attempt when bwrap works; trusted ones keep the network, untrusted get none', () => {
    expect(decideIsolation('bwrap', made, trusted)).toEqual({ sandbox: 'bwrap', network: 'on' });
    expect(decideIsolation('bwrap', made, untrusted)).toEqual({ sandbox: 'bwrap', network: 'none' });
    expect(decideIsolation('bwrap', made, {})).toEqual({ sandbox: 'bwrap', network: 'none' });
    expect(decideIsolation('bwrap', made, { ...trusted, network: 'none' })).toMatchObject({
      network: 'none',
    });
    expect(decideIsolation('bwrap', made, trusted, 'none')).toMatchObject({ network: 'none' });
  });

  it('refuses trusted and untrusted work alike where no sandbox can be made, saying how to fix it', () => {
    for (const request of [trusted, untrusted]) {
      const refused = decideIsolation('bwrap', missing, request);
      expect(refused).toBeInstanceOf(SandboxUnavailableError);
      expect(refused).toMatchObject({ code: 'sandbox_unavailable', retryable: false, fault: 'system' });
      expect((refused as SandboxUnavailableError).message).toContain('not installed');
      expect((refused as SandboxUnavailableError).hint).toContain('sandbox: none');
    }
  });

  it('with `sandbox: none`, runs trusted work unsandboxed (saying so) and refuses untrusted work', () => {
    expect(decideIsolation('none', made, trusted)).toEqual({
      sandbox: 'none',
      network: 'on',
      reason: 'the runners config says `sandbox: none`',
    });
    expect(decideIsolation('none', made, untrusted)).toBeInstanceOf(SandboxUnavailableError);
    // No sandbox, no way to take the network away: refused rather than run with it.
    expect(decideIsolation('none', made, { ...trusted, network: 'none' })).toBeInstanceOf(
      SandboxUnavailableError,
    );
  });

  it('in a GitHub Actions job VM, uses bwrap when it works, else runs unsandboxed and says why', () => {
    expect(decideIsolation('job-vm', made, trusted)).toEqual({ sandbox: 'bwrap', network: 'on' });
    expect(decideIsolation('job-vm', missing, trusted)).toMatchObject({
      sandbox: 'none',
      reason: expect.stringContaining('the GitHub Actions job VM is the sandbox'),
    });
  });
});

describe('resolveProgram', () => {
  it('finds argv[0] on the task PATH and reports ENOENT and EACCES as execvp would', () => {
    expect(resolveProgram('sh', '/nonexistent:/usr/bin:/bin', '/')).toMatchObject({ ok: true });
    expect(resolveProgram('no-such-program-xyz', '/usr/bin:/bin', '/')).toEqual({
      ok: false,
      code: 'ENOENT',
    });
    expect(resolveProgram('/etc/passwd', undefined, '/')).toEqual({ ok: false, code: 'EACCES' });
    expect(resolveProgram('./x', undefined, '/nonexistent')).toEqual({ ok: false, code: 'ENOENT' });
  });
});

describe('bwrapArgs', () => {
  const layout = {
    writable: ['/data/work/r1/t.1'],
    readOnly: ['/usr/share'],
    hidden: ['/usr/share/doc'],
    network: 'none' as const,
    cwd: '/data/work/r1/t.1',
    home: '/root',
  };
  it('unshares every namespace, the network too unless it is on, and never binds /etc whole', () => {
    const args = bwrapArgs(layout);
    expect(args.slice(0, 1)).toEqual(['--unshare-all']);
    expect(args).not.toContain('--share-net');
    expect(bwrapArgs({ ...layout, network: 'on' })).toContain('--share-net');
    expect(args).toEqual(expect.arrayContaining(['--die-with-parent', '--new-session']));
    const pairs = args.map((a, i) => `${a} ${args[i + 1]} ${args[i + 2]}`);
    expect(pairs).not.toContain('--ro-bind /etc /etc');
    // /etc is the host layout's view of the allow-list (host-layout.test.ts), never /etc itself.
    expect(pairs.some((p) => /^--ro-bind \S+\/etc-\d+ \/etc$/.test(p))).toBe(true);
    expect(args.at(-1)).toBe('--');
  });
  it('binds the workspace writable last, masks hidden paths under read-only binds, and gives HOME a tmpfs', () => {
    const args = bwrapArgs(layout).join(' ');
    expect(args).toContain('--ro-bind /usr/share /usr/share --tmpfs /usr/share/doc');
    expect(args).toContain('--tmpfs /root');
    expect(args).toContain(
      '--bind /data/work/r1/t.1 /data/work/r1/t.1 --remount-ro / --chdir /data/work/r1/t.1 --',
    );
    expect(args).not.toContain('/data ');
  });
});

describe('bwrapArgs and HOME', () => {
  const base = { writable: ['/d/w'], readOnly: [], hidden: [], network: 'none' as const, cwd: '/d/w' };
  it('never puts a tmpfs over the root, a system directory or the workspace', () => {
    for (const home of ['/', '/usr', '/usr/local', '/d/w', '/d', 'relative'])
      expect(bwrapArgs({ ...base, home }).join(' ')).not.toContain(`--tmpfs ${home} `);
    expect(bwrapArgs({ ...base, home: '/tmp' }).filter((a) => a === '/tmp')).toHaveLength(1);
    expect(bwrapArgs({ ...base, home: '/home/ci' }).join(' ')).toContain('--tmpfs /home/ci ');
  });
});

describe('decideIsolation for a step that asks for host access', () => {
  const host = { trust: 'trusted' as const, hostAccess: true as const };

  it('refuses it unless the runners config grants host access (absent means denied)', () => {
    for (const grant of [undefined, 'denied' as const]) {
      const refused = decideIsolation('bwrap', made, host, undefined, grant);
      expect(refused).toBeInstanceOf(HostAccessRefusedError);
      expect(refused).toMatchObject({ code: 'host_access_not_granted', retryable: false, fault: 'user' });
      expect((refused as HostAccessRefusedError).hint).toContain('hostAccess: granted');
    }
    // `sandbox: none` is not a host-access grant either.
    expect(decideIsolation('none', made, host)).toBeInstanceOf(HostAccessRefusedError);
  });

  it('with the grant, runs it on the host and says so; never for an untrusted run or without network', () => {
    expect(decideIsolation('bwrap', made, host, undefined, 'granted')).toEqual({
      sandbox: 'none',
      network: 'on',
      reason: 'host access granted by the runners config (`local.hostAccess: granted`)',
      hostAccess: true,
    });
    for (const request of [
      { trust: 'untrusted' as const, hostAccess: true as const },
      { hostAccess: true as const },
      { ...host, network: 'none' as const },
    ])
      expect(decideIsolation('bwrap', made, request, undefined, 'granted')).toBeInstanceOf(
        HostAccessRefusedError,
      );
    expect(decideIsolation('bwrap', made, host, 'none', 'granted')).toBeInstanceOf(HostAccessRefusedError);
  });

  it('keeps every other step of a granted runner in the sandbox', () => {
    expect(decideIsolation('bwrap', made, trusted, undefined, 'granted')).toEqual({
      sandbox: 'bwrap',
      network: 'on',
    });
  });
});
