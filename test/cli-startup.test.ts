/**
 * `maestro --help` (and every command's start) loads only what registering the commands needs:
 * the servers' libraries are loaded by the commands that start a server, when they start it.
 * Measured by the packages the process loads, not by time (tests never assert on wall-clock time).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));

// Runs before the CLI: records every package a module is loaded from (import and require alike).
const recordPackages = `
import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
const seen = new Set();
let modules = 0;
registerHooks({ load(url, context, next) {
  modules++;
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
  if (m) seen.add(m[1]);
  return next(url, context);
} });
// Node's own lazily loaded internals (fetch's undici among them) are in process.moduleLoadList.
process.on('exit', () => writeSync(2, 'PACKAGES ' + JSON.stringify([...seen]) + '\\nMODULES ' + modules +
  '\\nINTERNALS ' + JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))) + '\\n'));
`;

function packagesLoadedBy(args: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return loadedBy(args, env).packages;
}

function loadedBy(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  status = 0,
): { packages: string[]; modules: number; stdout: string; internals: string[] } {
  const result = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(recordPackages)}`, 'bin/maestro.ts', ...args],
    { cwd: repo, encoding: 'utf8', env },
  );
  expect(result.status, result.stderr).toBe(status);
  const line = /^PACKAGES (.*)$/m.exec(result.stderr);
  expect(line, result.stderr).not.toBeNull();
  return {
    packages: JSON.parse(line![1]!) as string[],
    modules: Number(/^MODULES (\d+)$/m.exec(result.stderr)?.[1]),
    stdout: result.stdout,
    internals: JSON.parse(/^INTERNALS (.*)$/m.exec(result.stderr)?.[1] ?? '[]') as string[],
  };
}

describe('maestro start-up', () => {
  it('--help loads none of the servers’ libraries (Fastify, prom-client, probot, smee-client)', () => {
    const loaded = packagesLoadedBy(['--help']);
    expect(loaded).toContain('commander');
    for (const heavy of ['fastify', 'prom-client', 'probot', 'smee-client', '@octokit/core'])
      expect(loaded).not.toContain(heavy);
  });

  it('`maestro validate` of a valid manifest loads no schema compiler, positional parser or cron library', () => {
    // The manifest validator is ajv's standalone code (compiler/generated), yaml places diagnostics
    // only when there are some, semver and cron-parser serve `uses:` and schedules (the quickstart
    // has neither), the server client serves --server. Before: 358 modules, ajv compiling the schema.
    const { packages, modules } = loadedBy(['validate', 'examples/quickstart/.maestro/workflows/hello.yaml']);
    expect(packages).toContain('js-yaml');
    // Nor git: the manifest's repository is found on disk (workspace/git-top-level.ts).
    for (const heavy of [
      'ajv',
      'yaml',
      'semver',
      'cron-parser',
      'luxon',
      'eventsource-parser',
      'simple-git',
      're2js',
    ])
      expect(packages).not.toContain(heavy);
    expect(modules).toBeGreaterThan(50);
    expect(modules).toBeLessThan(200);
  });

  it('a manifest that needs them still gets them: positions for a problem, cron for a schedule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-startup-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: maestro/v1',
          'kind: Workflow',
          'metadata: { name: x }',
          'spec:',
          '  triggers: { schedule: { cron: "0 3 * * *" } }',
          '  tasks:',
          '    - { id: a, run: "echo ${params.nope}" }',
          '',
        ].join('\n'),
      );
      const { packages, stdout } = loadedBy(['validate', file], process.env, 1);
      expect(stdout).toMatch(/bad\.yaml:7:\d+.*unknown param `nope`/);
      expect(packages).toContain('yaml');
      expect(packages).toContain('cron-parser');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a local run loads neither the S3 SDK nor the container or Kubernetes clients it does not use', () => {
    const loaded = packagesLoadedBy(['validate', 'examples/quickstart/.maestro/workflows/hello.yaml']);
    expect(loaded).toContain('js-yaml');
    for (const heavy of [
      '@aws-sdk/client-s3',
      '@aws-sdk/s3-request-presigner',
      'dockerode',
      '@kubernetes/client-node',
    ])
      expect(loaded).not.toContain(heavy);
  });

  it('a local run (SQLite, no OTLP endpoint) loads neither pg nor the OTLP exporter', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maestro-startup-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, MAESTRO_DATA_DIR: dataDir };
      for (const name of Object.keys(env))
        if (name.startsWith('OTEL_') || name === 'MAESTRO_DATABASE_URL' || name === 'MAESTRO_OTEL_EXPORTER')
          delete env[name];
      const { packages: loaded, internals } = loadedBy(
        ['run', 'examples/quickstart/.maestro/workflows/hello.yaml'],
        env,
      );
      // The run really ran: the engine's store and the policy engine were loaded.
      expect(loaded).toContain('@open-policy-agent/opa-wasm');
      // Nor the tracing SDK and its resource and conventions (no exporter), the serverless
      // runner's SigV4 signer, yaml (no runners file) or cron-parser (no schedule).
      for (const heavy of [
        'pg',
        '@opentelemetry/sdk-trace-base',
        '@opentelemetry/core',
        '@opentelemetry/resources',
        '@opentelemetry/semantic-conventions',
        '@smithy/signature-v4',
        '@smithy/core',
        'yaml',
        'cron-parser',
        'luxon',
        '@opentelemetry/exporter-trace-otlp-http',
        '@opentelemetry/otlp-exporter-base',
        '@opentelemetry/otlp-transformer',
        '@opentelemetry/sdk-metrics',
        // Issue 18, memory: receipts signed with the local key need only @sigstore/bundle; the
        // keyless signer (Fulcio, Rekor, TUF and their fetch stack), the verifier, semver (SBOM
        // queries) and tar (disclosure archives, pod artifact uploads) load when used.
        '@sigstore/sign',
        '@sigstore/verify',
        '@sigstore/core',
        '@sigstore/tuf',
        'make-fetch-happen',
        'cacache',
        'semver',
        'tar',
      ])
        expect(loaded).not.toContain(heavy);
      expect(loaded).toContain('@sigstore/bundle');
      // Nor Node's fetch (undici), which the policy engine's loadPolicy pulled in by asking
      // `wasm instanceof Response`.
      expect(internals).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
