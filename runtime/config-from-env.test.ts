import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeConfigFromEnv } from './config-from-env.ts';
import { findDockerSocket } from './docker-socket.ts';

const cwd = mkdtempSync(join(tmpdir(), 'maestro-runtime-config-'));
const base = { HOME: cwd, MAESTRO_DATA_DIR: join(cwd, 'data') };
const none = (_path: string): boolean => false;

describe('runtimeConfigFromEnv', () => {
  it('policy: default, a bundle path, or an explicit off that says where it was turned off', () => {
    const read = (env: Record<string, string>, flag?: string) =>
      runtimeConfigFromEnv(
        { ...base, ...env },
        { cwd, socketExists: none, ...(flag ? { flags: { policy: flag } } : {}) },
      ).policy;
    expect(read({})).toEqual({ kind: 'default' });
    expect(read({ MAESTRO_POLICY: 'off' })).toEqual({ kind: 'off', source: 'MAESTRO_POLICY=off' });
    expect(read({ MAESTRO_POLICY: 'default' }, 'off')).toEqual({ kind: 'off', source: '--policy off' });
    expect(read({ MAESTRO_POLICY: 'b.tar.gz' })).toEqual({ kind: 'bundle', path: join(cwd, 'b.tar.gz') });
  });

  it('OTLP: an endpoint turns traces and metrics export on; MAESTRO_OTEL_EXPORTER and the standard off switches win', () => {
    const read = (env: Record<string, string>) => {
      const config = runtimeConfigFromEnv({ ...base, ...env }, { cwd, socketExists: none });
      return { traces: config.tracing.exporter, metrics: config.metrics };
    };
    const at = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(read({})).toEqual({ traces: 'none', metrics: undefined });
    expect(read(at)).toEqual({
      traces: 'otlp',
      metrics: { exporter: 'otlp', intervalMs: 60_000, timeoutMs: 30_000 },
    });
    expect(read({ ...at, OTEL_METRIC_EXPORT_INTERVAL: '5000' }).metrics?.intervalMs).toBe(5000);
    expect(read({ ...at, MAESTRO_OTEL_EXPORTER: 'none' }).traces).toBe('none');
    expect(read({ ...at, OTEL_METRICS_EXPORTER: 'none' })).toEqual({ traces: 'otlp', metrics: undefined });
    expect(read({ ...at, OTEL_SDK_DISABLED: 'true' })).toEqual({ traces: 'none', metrics: undefined });
    expect(read({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c/v1/metrics' }).traces).toBe('none');
    expect(() => read({ ...at, OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow(
      /OTEL_METRIC_EXPORT_INTERVAL=soon/,
    );
  });

  it('MAESTRO_REATTEMPTS: unset leaves the engine default; a whole number is passed; anything else is a usage error', () => {
    const read = (env: Record<string, string>) =>
      runtimeConfigFromEnv({ ...base, ...env }, { cwd, socketExists: none }).reattempts;
    expect(read({})).toBeUndefined();
    expect(read({ MAESTRO_REATTEMPTS: '0' })).toBe(0);
    expect(read({ MAESTRO_REATTEMPTS: '5' })).toBe(5);
    for (const bad of ['-1', '1.5', 'three', ''])
      expect(() => read({ MAESTRO_REATTEMPTS: bad }), bad).toThrow(
        /MAESTRO_REATTEMPTS=.* is not a whole number/,
      );
  });

  it('MAESTRO_CONCURRENCY: unset leaves the CPU count; the flag wins over it; anything but a positive whole number is a usage error', () => {
    const read = (env: Record<string, string>, concurrency?: number) =>
      runtimeConfigFromEnv(
        { ...base, ...env },
        { cwd, socketExists: none, ...(concurrency === undefined ? {} : { flags: { concurrency } }) },
      ).concurrency;
    expect(read({})).toBeUndefined();
    expect(read({ MAESTRO_CONCURRENCY: '64' })).toBe(64);
    expect(read({ MAESTRO_CONCURRENCY: '64' }, 4)).toBe(4);
    for (const bad of ['0', '-1', '1.5', 'many', ''])
      expect(() => read({ MAESTRO_CONCURRENCY: bad }), bad).toThrow(
        /MAESTRO_CONCURRENCY=.* is not a whole number/,
      );
  });

  it('MAESTRO_WORKER_RUNS: unset leaves the worker default; --worker-runs wins over it; a bad value names where it came from', () => {
    const read = (env: Record<string, string>, workerRuns?: string) =>
      runtimeConfigFromEnv(
        { ...base, ...env },
        { cwd, socketExists: none, ...(workerRuns === undefined ? {} : { flags: { workerRuns } }) },
      ).workerRuns;
    expect(read({})).toBeUndefined();
    expect(read({ MAESTRO_WORKER_RUNS: '64' })).toBe(64);
    expect(read({ MAESTRO_WORKER_RUNS: '64' }, '100')).toBe(100);
    expect(() => read({ MAESTRO_WORKER_RUNS: '0' })).toThrow(/^MAESTRO_WORKER_RUNS=0 is not a whole number/);
    expect(() => read({ MAESTRO_WORKER_RUNS: '64' }, 'many')).toThrow(
      /^--worker-runs many is not a whole number/,
    );
  });

  it('MAESTRO_PUBLIC_URL: kept without its trailing slash; --public-url wins; a URL with a password is refused without echoing it', () => {
    const read = (env: Record<string, string>, publicUrl?: string) =>
      runtimeConfigFromEnv(
        { ...base, ...env },
        { cwd, socketExists: none, ...(publicUrl === undefined ? {} : { flags: { publicUrl } }) },
      ).publicUrl;
    expect(read({})).toBeUndefined();
    expect(read({ MAESTRO_PUBLIC_URL: 'https://maestro.example.com/' })).toBe('https://maestro.example.com');
    expect(read({ MAESTRO_PUBLIC_URL: 'https://a.example' }, 'http://b.example:8080/ci/')).toBe(
      'http://b.example:8080/ci',
    );
    expect(() => read({ MAESTRO_PUBLIC_URL: 'maestro.example.com' })).toThrow(
      /^MAESTRO_PUBLIC_URL=maestro.example.com is not an absolute URL/,
    );
    expect(() => read({ MAESTRO_PUBLIC_URL: 'file:///etc' })).toThrow(/is not an http or https URL/);
    expect(() => read({ MAESTRO_PUBLIC_URL: 'https://x.example/?a=1' })).toThrow(/has a query or fragment/);
    expect(() => read({}, 'https://ops:hunter2@x.example')).toThrow(
      /^--public-url <redacted> holds a user or password/,
    );
    expect(() => read({}, 'https://ops:hunter2@x.example')).not.toThrow(/hunter2/);
  });

  it('has the local runner always, and the container runner only where a socket is', () => {
    const sections = (env: Record<string, string>, exists = none) =>
      runtimeConfigFromEnv({ ...base, ...env }, { cwd, socketExists: exists }).runners.sections;
    expect(Object.keys(sections({}))).toEqual(['local']);
    const detected = sections({}, (p) => p === '/run/podman/podman.sock');
    expect(detected.container).toMatchObject({
      socketPath: '/run/podman/podman.sock',
      user: '1000:1000',
      network: 'none',
      pull: 'never',
    });
    expect(detected.container!.privileged).toBeUndefined();
  });

  it('a runners file section wins over a detected socket; a misspelt section names the file', () => {
    const file = join(cwd, 'runners.yaml');
    writeFileSync(
      file,
      'container:\n  socketPath: /x.sock\n  defaultImage: img\n  resourceClasses: { small: {} }\n',
    );
    const config = runtimeConfigFromEnv(
      { ...base, MAESTRO_RUNNERS_CONFIG: file, DOCKER_HOST: 'unix:///other.sock' },
      { cwd, socketExists: none },
    );
    expect(config.runners.sections.container!.socketPath).toBe('/x.sock');
    writeFileSync(file, 'containers: {}\n');
    expect(() =>
      runtimeConfigFromEnv({ ...base, MAESTRO_RUNNERS_CONFIG: file }, { cwd, socketExists: none }),
    ).toThrow(/runners\.yaml: unknown key `containers`/);
  });

  it('MAESTRO_PRICE_TABLE: the operator table over the default; a bad field or a missing file names it', () => {
    expect(runtimeConfigFromEnv(base, { cwd, socketExists: none }).prices).toBeUndefined();
    const file = join(cwd, 'prices.yaml');
    writeFileSync(file, 'perHour:\n  kubernetes: { large: 0.9 }\n');
    const config = runtimeConfigFromEnv(
      { ...base, MAESTRO_PRICE_TABLE: 'prices.yaml' },
      { cwd, socketExists: none },
    );
    expect(config.prices!.perHour.kubernetes!.large).toBe(0.9);
    writeFileSync(file, 'perHour:\n  kubernetes: { large: -1 }\n');
    expect(() =>
      runtimeConfigFromEnv({ ...base, MAESTRO_PRICE_TABLE: file }, { cwd, socketExists: none }),
    ).toThrow(/prices\.yaml: perHour\.kubernetes\.large: expected a price per hour above 0/);
    expect(() =>
      runtimeConfigFromEnv(
        { ...base, MAESTRO_PRICE_TABLE: join(cwd, 'nope.yaml') },
        { cwd, socketExists: none },
      ),
    ).toThrow(/nope\.yaml does not exist/);
  });

  it('hides the data dir, the secrets file and the operator keys from tasks', () => {
    const config = runtimeConfigFromEnv(
      {
        ...base,
        MAESTRO_SIGNING_KEY: 'keys/receipt.pem',
        MAESTRO_APPROVAL_SIGNING_KEY: '/etc/k/approve.pem',
      },
      { cwd, socketExists: none },
    );
    expect(config.hiddenPaths).toEqual(
      expect.arrayContaining([
        base.MAESTRO_DATA_DIR,
        join(cwd, 'keys/receipt.pem'),
        join(cwd, 'keys'),
        '/etc/k/approve.pem',
        '/etc/k',
      ]),
    );
    expect(config.localSandbox).toBe('bwrap');
    expect(runtimeConfigFromEnv({ ...base, GITHUB_ACTIONS: 'true' }, { cwd }).localSandbox).toBe('job-vm');
  });
});

describe('findDockerSocket', () => {
  it('DOCKER_HOST first, then Docker, then rootless and rootful Podman', () => {
    const only = (path: string) => (p: string) => p === path;
    expect(findDockerSocket({ DOCKER_HOST: 'unix:///d.sock' }, none).found).toEqual({
      socketPath: '/d.sock',
      from: 'DOCKER_HOST',
    });
    expect(findDockerSocket({}, () => true).found?.socketPath).toBe('/var/run/docker.sock');
    expect(
      findDockerSocket({ XDG_RUNTIME_DIR: '/run/user/1000' }, only('/run/user/1000/podman/podman.sock')).found
        ?.socketPath,
    ).toBe('/run/user/1000/podman/podman.sock');
    expect(findDockerSocket({}, only('/run/podman/podman.sock')).found?.socketPath).toBe(
      '/run/podman/podman.sock',
    );
    expect(findDockerSocket({}, none)).toEqual({});
    const tcp = findDockerSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }, () => true);
    expect(tcp.found).toBeUndefined();
    expect(tcp.note).toMatch(/is not a unix socket/);
  });
});
