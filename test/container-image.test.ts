// The Containerfile as a user builds it: from the packed tarball (`npm pack`), on a Node 24 base
// given as NODE_IMAGE, then started read-only with its data on a volume. There is no image
// registry here, so the base is imported locally (test/setup/node-base-image.ts) and npm installs
// the tarball's dependencies offline from the host's npm cache (mounted copy-on-write); a user's
// build fetches them from the registry instead. Everything else is the user's path.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from './helpers/helm-template.ts';
import { packTarball, warmNpmCache } from './helpers/pack-tarball.ts';
import { ensureNodeBaseImage } from './setup/node-base-image.ts';

const repo = join(import.meta.dirname, '..');
const suffix = randomBytes(4).toString('hex');
const image = `localhost/summit-maestro-test:${suffix}`;
const container = `maestro-image-test-${suffix}`;
const volume = `maestro-image-data-${suffix}`;
let context: string;
let baseUrl: string;

/** The parts of the chart's pod spec this test turns into podman flags. */
interface ChartPod {
  securityContext: { runAsUser: number; runAsGroup: number };
  containers: {
    name: string;
    args: string[];
    env: { name: string; value?: string }[];
    ports: { containerPort: number }[];
    securityContext: Record<string, unknown>;
    volumeMounts: { mountPath: string }[];
    readinessProbe: { httpGet: { path: string } };
    livenessProbe: { httpGet: { path: string } };
  }[];
}

function podman(args: string[]): string {
  return execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

async function waitForHealthz(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `the container never answered /healthz:\n${spawnSync('podman', ['logs', container], { encoding: 'utf8' }).stderr}`,
  );
}

beforeAll(async () => {
  context = mkdtempSync(join(tmpdir(), 'maestro-image-'));
  const baseImage = ensureNodeBaseImage();
  const tarball = await packTarball(context);
  warmNpmCache(tarball);
  for (const file of ['Containerfile', '.containerignore'])
    copyFileSync(join(repo, file), join(context, file));
  podman([
    'build',
    ...['--format', 'docker', '--network', 'none'],
    ...['--volume', `${join(homedir(), '.npm')}:/root/.npm:O`, '--build-arg', 'NPM_FLAGS=--offline'],
    ...['--build-arg', `NODE_IMAGE=${baseImage}`, '--tag', image, context],
  ]);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  podman([
    'run',
    ...['--detach', '--name', container, '--read-only'],
    ...['--volume', `${volume}:/data`, '--publish', '127.0.0.1::3000'],
    ...['--env', 'APP_ID=1', '--env', 'WEBHOOK_SECRET=image-test-secret'],
    ...['--env', `PRIVATE_KEY=${Buffer.from(pem).toString('base64')}`],
    image,
  ]);
  baseUrl = `http://${podman(['port', container, '3000/tcp'])}`;
  await waitForHealthz();
}, 900_000);

afterAll(() => {
  spawnSync('podman', ['rm', '--force', '--time', '0', container]);
  spawnSync('podman', ['volume', 'rm', '--force', volume]);
  spawnSync('podman', ['rmi', '--force', image]);
  if (context) rmSync(context, { recursive: true, force: true });
});

describe('the container image', () => {
  it('runs `maestro app`, answering /healthz and /readyz on port 3000', async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('runs as a non-root user on a read-only root filesystem, writing only to its /data volume', () => {
    expect(podman(['inspect', container, '--format', '{{.Config.User}}'])).toBe('1000:1000');
    expect(podman(['inspect', container, '--format', '{{.HostConfig.ReadonlyRootfs}}'])).toBe('true');
    expect(podman(['exec', container, 'id', '-u'])).toBe('1000');
    const write = spawnSync('podman', ['exec', container, 'touch', '/opt/maestro/planted'], {
      encoding: 'utf8',
    });
    expect(write.status).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    // The stores and keys went to the volume, private to the runtime user.
    expect(podman(['exec', container, 'stat', '-c', '%a %u', '/data'])).toBe('700 1000');
    expect(podman(['exec', container, 'ls', '/data'])).toMatch(/github-app\.sqlite/);
  });

  it('declares the data volume, the port, the data dir and a HEALTHCHECK on /healthz that passes', () => {
    const [inspected] = JSON.parse(podman(['image', 'inspect', image])) as {
      Config: { Volumes: Record<string, unknown>; ExposedPorts: Record<string, unknown>; Env: string[] };
      Healthcheck?: { Test: string[] };
    }[];
    const { Config: config, Healthcheck: healthcheck } = inspected!;
    expect(Object.keys(config.Volumes)).toEqual(['/data']);
    expect(Object.keys(config.ExposedPorts)).toEqual(['3000/tcp']);
    expect(config.Env).toContain('MAESTRO_DATA_DIR=/data');
    expect(healthcheck?.Test.join(' ')).toMatch(/\/healthz/);
    expect(spawnSync('podman', ['healthcheck', 'run', container]).status).toBe(0);
  });

  it('holds the package and its runtime dependencies only: no devDependencies, no sources', () => {
    const modules = podman(['exec', container, 'ls', '/opt/maestro/node_modules']).split('\n');
    expect(modules).toContain('summit-maestro');
    expect(modules).toContain('probot');
    for (const dev of ['vitest', 'typescript', 'eslint', 'esbuild']) expect(modules).not.toContain(dev);
    const sources = podman([
      'exec',
      container,
      'find',
      '/opt/maestro/node_modules/summit-maestro',
      '-name',
      '*.ts',
    ]);
    expect(sources.split('\n').filter((f) => f !== '' && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('without APP_ID serves the setup page from the packaged app.yml, read-only as well', async () => {
    const setup = `${container}-setup`;
    try {
      podman([
        'run',
        '--detach',
        '--name',
        setup,
        '--read-only',
        '--tmpfs',
        '/data',
        '--publish',
        '127.0.0.1::3000',
        image,
      ]);
      const url = `http://${podman(['port', setup, '3000/tcp'])}`;
      let page = '';
      for (let i = 0; i < 300 && page === ''; i++) {
        page = await fetch(`${url}/probot`).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (page === '') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(page).toContain('Register GitHub App');
      expect(page).toContain('https://github.com/settings/apps/new?state=');
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      spawnSync('podman', ['rm', '--force', '--time', '0', setup]);
    }
  });

  it("runs `maestro server` as the Helm chart's Deployment does: its args, env and security context, /data and /tmp the only writable paths", async () => {
    // One replica on SQLite without the Kubernetes runner (no cluster here for its in-cluster config).
    const objects = await renderChart('image', 'maestro', [
      'replicaCount=1',
      'database.existingSecret=',
      'runners=null',
    ]);
    const pod = (
      objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: ChartPod } } }
    ).spec.template.spec;
    const server = pod.containers.find((c) => c.name === 'server')!;
    const sc = server.securityContext;
    // What the chart asks of the runtime, translated flag by flag. An emptyDir (default medium) is
    // a directory on the node's disk, mode 0777, owned by root: the same here, from the host.
    const emptyDirs: string[] = [];
    const emptyDir = () => {
      const dir = mkdtempSync(join(tmpdir(), 'maestro-emptydir-'));
      chmodSync(dir, 0o777);
      emptyDirs.push(dir);
      return dir;
    };
    expect(sc).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(server.volumeMounts.map((m) => m.mountPath).sort()).toEqual(['/data', '/tmp']);
    const name = `${container}-chart`;
    try {
      podman([
        'run',
        ...['--detach', '--name', name, '--read-only', '--read-only-tmpfs=false'],
        ...['--user', `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`],
        ...['--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'],
        ...server.volumeMounts.flatMap((m) => ['--volume', `${emptyDir()}:${m.mountPath}`]),
        ...server.env.filter((e) => e.value !== undefined).flatMap((e) => ['--env', `${e.name}=${e.value}`]),
        ...['--publish', `127.0.0.1::${server.ports[0]!.containerPort}`],
        image,
        ...server.args,
      ]);
      const url = `http://${podman(['port', name, `${server.ports[0]!.containerPort}/tcp`])}`;
      const probe = (path: string) =>
        fetch(`${url}${path}`).then(
          (r) => r.status,
          () => 0,
        );
      const logs = () => spawnSync('podman', ['logs', name], { encoding: 'utf8' });
      let ready = 0;
      const deadline = Date.now() + 40_000;
      while (ready !== 200 && Date.now() < deadline) {
        ready = await probe(server.readinessProbe.httpGet.path);
        if (podman(['inspect', name, '--format', '{{.State.Running}}']) !== 'true') break;
        if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const readyz = await fetch(`${url}${server.readinessProbe.httpGet.path}`).then(
        (r) => r.text(),
        (e: unknown) => String(e),
      );
      expect(ready, `${readyz}\n${logs().stdout}\n${logs().stderr}`).toBe(200);
      expect(await probe(server.livenessProbe.httpGet.path)).toBe(200);
      expect(await probe('/v1/runs')).toBe(401);
      // The stores went to the data volume; nothing else was writable.
      expect(podman(['exec', name, 'ls', '/data'])).toMatch(/api\.sqlite/);
      expect(spawnSync('podman', ['exec', name, 'touch', '/opt/maestro/planted']).status).not.toBe(0);
    } finally {
      spawnSync('podman', ['rm', '--force', '--time', '0', name]);
      for (const dir of emptyDirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops cleanly on SIGTERM (exit 0)', () => {
    podman(['stop', '--time', '20', container]);
    expect(podman(['inspect', container, '--format', '{{.State.ExitCode}}'])).toBe('0');
  });
});
