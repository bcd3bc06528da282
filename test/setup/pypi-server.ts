/**
 * A local PyPI-compatible index for one test file: pypiserver (PyPI, installed by
 * scripts/setup/python.sh) as its own process on a free port of 127.0.0.1. Uploads need a
 * password (an htpasswd file, as an internal index would have); reading is open. It serves the
 * upload directory and, read-only, the SDK's dependency wheels, and never falls back to PyPI
 * (--disable-fallback): what a test installs comes from this index alone.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { pythonTools, runPython } from './python-tools.ts';

export interface PypiServer {
  /** http://127.0.0.1:<port>/ : where twine uploads. */
  url: string;
  /** http://127.0.0.1:<port>/simple/ : pip's --index-url. */
  simple: string;
  /** The only account that may upload. */
  user: string;
  password: string;
  /** Where uploaded files land. */
  packagesDir: string;
  stop(): Promise<void>;
}

export async function startPypiServer(dir: string, extraDirs: string[] = []): Promise<PypiServer> {
  const tools = pythonTools();
  const packagesDir = join(dir, 'packages');
  mkdirSync(packagesDir, { recursive: true });
  const user = 'publisher';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const htpasswd = join(dir, 'htpasswd');
  // passlib (beside pypiserver) writes the entry pypiserver checks; bcrypt would need another wheel.
  const made = await runPython(tools.bin('python'), [
    '-c',
    'import sys; from passlib.apache import HtpasswdFile as H; f = H(sys.argv[1], new=True, default_scheme="sha256_crypt"); f.set_password(sys.argv[2], sys.argv[3]); f.save()',
    htpasswd,
    user,
    password,
  ]);
  if (made.code !== 0) throw new Error(`htpasswd: ${made.stderr}`);
  const port = await freePort();
  let log = '';
  const child = spawn(
    tools.bin('pypi-server'),
    [
      'run',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--authenticate',
      'update',
      '--passwords',
      htpasswd,
      '--disable-fallback',
      '--server',
      'wsgiref',
      packagesDir,
      ...extraDirs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: dir } },
  );
  child.stdout!.on('data', (c: Buffer) => void (log = (log + c.toString()).slice(-8192)));
  child.stderr!.on('data', (c: Buffer) => void (log = (log + c.toString()).slice(-8192)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('pypiserver to answer', async () => ((await fetch(`${url}health`)).ok ? true : undefined), {
    explain: () => log,
  });
  return {
    url,
    simple: `${url}simple/`,
    user,
    password,
    packagesDir,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
