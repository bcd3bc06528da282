/**
 * The attack: a task on the local runner of a server whose runners file has a `kubernetes`
 * section reads that section's kubeconfigs (a cluster's credentials: with the chart, Secret
 * volumes under /etc/maestro/clusters) and creates Jobs as the runner. The runtime hides every
 * kubeconfig the section names from every task, under its name and the Secret volume's links
 * (runners/kubernetes/factory.ts). Real `maestro run`, real bubblewrap;
 * the files sit inside the installation, which the sandbox binds read-only, so only the hiding
 * keeps them out.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { captureIo } from './cli-helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const KUBECONFIG = (token: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
    `users: [{name: u, user: {token: ${token}}}]`,
    'contexts: [{name: east, context: {cluster: c, user: u}}]',
    'current-context: east',
    '',
  ].join('\n');

let dir: string;
let inside: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-k8s-hidden-'));
  inside = join(root, 'test', 'artifacts', `k8s-secret-files-${process.pid}`);
  // A plain kubeconfig file, and one projected as the kubelet projects a Secret volume.
  mkdirSync(join(inside, 'west', '..2026_12_02'), { recursive: true });
  writeFileSync(join(inside, 'east.kubeconfig'), KUBECONFIG('east-token-s3cr3t'), { mode: 0o600 });
  writeFileSync(join(inside, 'west', '..2026_12_02', 'kubeconfig'), KUBECONFIG('west-token-s3cr3t'));
  symlinkSync('..2026_12_02', join(inside, 'west', '..data'));
  symlinkSync('..data/kubeconfig', join(inside, 'west', 'kubeconfig'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(inside, { recursive: true, force: true });
});

describe('the Kubernetes runner’s kubeconfigs are hidden from tasks', () => {
  it('a local task cannot read them, by their names or through the Secret volume’s links', async () => {
    const runners = join(dir, 'runners.yaml');
    writeFileSync(
      runners,
      `kubernetes:
  clusters:
    east: { kubeconfig: ${join(inside, 'east.kubeconfig')}, context: east }
    west: { kubeconfig: ${join(inside, 'west', 'kubeconfig')}, context: east }
  defaultCluster: east
  namespaces: { default: maestro-runs }
  defaultImage: registry.example/maestro/task:1
  resourceClasses: { small: {} }
`,
    );
    const paths = [
      join(inside, 'east.kubeconfig'),
      join(inside, 'west', 'kubeconfig'),
      join(inside, 'west', '..data', 'kubeconfig'),
      join(inside, 'west', '..2026_12_02', 'kubeconfig'),
    ];
    const manifest = join(dir, 'steal.yaml');
    writeFileSync(
      manifest,
      `apiVersion: maestro/v1
kind: Workflow
metadata: { name: steal, namespace: default }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
    - id: steal
      run: echo "got=$(cat ${paths.join(' ')} 2>/dev/null | grep -c s3cr3t)" >> "$MAESTRO_OUTPUT"
      outputs: [got]
`,
    );
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const io = captureIo(dir, { PATH: process.env.PATH, HOME: dataDir });
    const code = await runCli(['run', manifest, '--data-dir', dataDir, '--runners', runners], io);
    expect(code, `${io.out()}\n${io.err()}`).toBe(0);
    const store = openStore({ dataDir });
    try {
      const [summary] = store.listRuns({});
      expect(store.listAttempts(summary!.id)[0]!.outputs).toEqual({ got: '0' });
    } finally {
      store.close();
    }
  }, 60_000);
});
