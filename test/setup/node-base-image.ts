/**
 * A local stand-in for the public Node 24 base image the Containerfile builds on (there is no image
 * registry here): a root filesystem holding the Node 24 binary of the `node` devDependency (debug
 * symbols stripped), the shared libraries `ldd` says it loads, npm (the host's, which runs on
 * Node 24) and busybox for /bin/sh, imported with `podman import`. Built once per Node version.
 * Like the official Debian-based image, it carries a dpkg database: the host's own stanzas of the
 * Debian packages those files came from (`dpkg -S`), and the host's os-release, so an SBOM read
 * from the image (provenance/sbom) lists the OS packages that are really in it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const NODE_BINARY = join(repo, 'node_modules', 'node', 'bin', 'node');
const HOST_NPM = '/usr/lib/node_modules/npm';

/** Imports the base image unless it exists; returns its name for `--build-arg NODE_IMAGE=`. */
export function ensureNodeBaseImage(): string {
  const version = execFileSync(NODE_BINARY, ['--version'], { encoding: 'utf8' }).trim();
  // -dpkg: the images built before the dpkg database was added lack it.
  const image = `localhost/maestro-node-base:${version}-dpkg`;
  if (spawnSync('podman', ['image', 'exists', image]).status === 0) return image;
  const root = mkdtempSync(join(tmpdir(), 'maestro-node-rootfs-'));
  try {
    populate(root);
    const tarball = `${root}.tar`;
    execFileSync('tar', ['-C', root, '-cf', tarball, '.']);
    execFileSync('podman', [
      'import',
      ...['--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin'],
      ...['--change', 'CMD ["node"]'],
      tarball,
      image,
    ]);
    rmSync(tarball, { force: true });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return image;
}

function populate(root: string): void {
  for (const dir of ['bin', 'usr/bin', 'usr/local/bin', 'usr/local/lib/node_modules', 'etc', 'root']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  chmodSync(join(root, 'tmp'), 0o1777);
  execFileSync('strip', ['--strip-debug', '-o', join(root, 'usr/local/bin/node'), NODE_BINARY]);
  for (const library of sharedLibraries(NODE_BINARY)) {
    mkdirSync(join(root, dirname(library)), { recursive: true });
    copyFileSync(library, join(root, library));
  }
  cpSync('/bin/busybox', join(root, 'bin/busybox'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n');
  for (const applet of applets.filter((name) => name !== '' && name !== 'busybox')) {
    symlinkSync('busybox', join(root, 'bin', applet));
  }
  symlinkSync('/bin/env', join(root, 'usr/bin/env'));
  cpSync(HOST_NPM, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  // The official node images have a `node` user with uid 1000; the Containerfile runs as it.
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  writeDpkgDatabase(root, ['/bin/busybox', ...sharedLibraries(NODE_BINARY)]);
}

/** /var/lib/dpkg/status with the host's stanzas of the packages that own `files`, and os-release. */
function writeDpkgDatabase(root: string, files: string[]): void {
  const owners = new Set<string>();
  for (const file of files) {
    const found = spawnSync('dpkg', ['-S', file], { encoding: 'utf8' });
    for (const line of found.stdout.split('\n')) {
      const owner = /^([^:\s,]+(?::[a-z0-9]+)?):\s/.exec(line)?.[1];
      if (owner) owners.add(owner);
    }
  }
  const stanzas = [...owners]
    .sort()
    .map((owner) => execFileSync('dpkg-query', ['-s', owner], { encoding: 'utf8' }).trim());
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), `${stanzas.join('\n\n')}\n`);
  copyFileSync('/etc/os-release', join(root, 'etc/os-release'));
}

/** The absolute paths `ldd` resolves for a binary, its dynamic loader included. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+\.so[.\d]*)/g)].map((match) => match[1] as string);
}
