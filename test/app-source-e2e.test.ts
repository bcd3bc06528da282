/**
 * Issue 11, "the repository's code", on the GitHub path: a signed `push` delivery to the App over
 * HTTP runs the pushed repository's own workflow on its own files. The repository lives in the
 * GitHub stand-in, served by the real `git http-backend`, which answers only with a live
 * installation token; the App fetches the pushed SHA into its mirror with that token (in the git
 * process's environment only), its `build` task builds the repository's program, and `test`
 * runs the built artifact it receives under $MAESTRO_ARTIFACTS/build/. Policy is asked before
 * each task and its decisions recorded; receipts are signed by the key MAESTRO_SIGNING_KEY names
 * and their subjects carry the artifact's digest. Then the same on the container runner (real
 * Podman through DOCKER_HOST) with the same App configuration.
 *
 * Before this change the App submitted runs without a source: each task started in an empty
 * directory, so `sh build.sh` failed with "can't open 'build.sh'" (and the token never reached git).
 *
 * MAESTRO_E2E_TRANSCRIPT=<file> appends a readable transcript of each run to that file.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { verifyBundle } from '../provenance/index.ts';
import { startHarness, type Harness } from './github-standin/app-harness.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

const workflow = (runner: string) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ci, namespace: demo }
spec:
  policy: { purpose: ci, authority: team:ci, license: MIT }
  triggers: { push: { branches: [main] } }
  defaults: { runner: ${runner}, retry: { limit: 0 }, timeout: 2m }
  tasks:
    - id: build
      run: sh build.sh
      artifacts: [dist/greet]
    - id: test
      needs: [build]
      run: sh test.sh "$MAESTRO_ARTIFACTS/build/dist/greet"
      outputs: [greeting]
`;

// The repository's own program: a script stamped with its VERSION, and its test.
const PROGRAM = {
  'src/greet.sh': '#!/bin/sh\necho "hello @VERSION@"\n',
  'build.sh':
    'set -e\nmkdir -p dist\nsed "s/@VERSION@/$(cat VERSION)/" src/greet.sh > dist/greet\nchmod +x dist/greet\necho "built dist/greet $(cat VERSION)"\n',
  'test.sh':
    'set -e\nout=$(sh "$1")\ntest "$out" = "hello $(cat VERSION)"\necho "greeting=$out" >> "$MAESTRO_OUTPUT"\necho "tested $1: ok"\n',
};
const builtGreet = (version: string) => `#!/bin/sh\necho "hello ${version}"\n`;
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

interface Statement {
  subject: { name: string; digest: { sha256: string } }[];
  predicate: {
    buildDefinition: {
      resolvedDependencies: { name: string; uri?: string; digest: Record<string, string> }[];
      internalParameters: { maestro: { policy?: { decisionIds?: string[]; bundleDigest?: string } } };
    };
  };
}

/** Every regular file under `dir` that contains `needle` (databases and WAL files included). */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && readFileSync(path).includes(needle)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

function signingKey(): { path: string; publicPem: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-signing-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const path = join(dir, 'receipts.pem');
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { path, publicPem, dir };
}

const transcriptFile = process.env.MAESTRO_E2E_TRANSCRIPT;
const say = (line: string) => void (transcriptFile && appendFileSync(transcriptFile, `${line}\n`));

let podman: PodmanService | undefined;
const key = signingKey();
afterAll(async () => {
  await podman?.stop();
  rmSync(key.dir, { recursive: true, force: true });
});

/** Pushes VERSION 2.0.0 over a base that has the program and the workflow; returns the run. */
async function pushAndRun(h: Harness, runner: string) {
  // The workflow is already on main (a new workflow on a privileged runner would wait for an
  // approval); the push changes the program's version, so the run must build the pushed commit.
  const base = h.repo.commit({
    branch: 'main',
    login: 'carol',
    files: { ...PROGRAM, VERSION: '1.0.0\n', '.maestro/workflows/ci.yaml': workflow(runner) },
  });
  const sha = h.repo.commit({ branch: 'main', login: 'carol', files: { VERSION: '2.0.0\n' } });
  say(`$ git push origin main            # ${base.slice(0, 7)}..${sha.slice(0, 7)}  VERSION 1.0.0 -> 2.0.0`);
  const status = await h.deliver(
    'push',
    h.pushPayload({ ref: 'refs/heads/main', before: base, after: sha, pusher: 'carol', files: ['VERSION'] }),
  );
  say(`POST ${h.appUrl}/api/github/webhooks  X-GitHub-Event: push (signed)  -> ${status}`);
  await h.idle();
  const [record] = await h.runtime.engineStore.listRuns();
  return { sha, status, run: await h.runtime.engineStore.getRun(record!.id) };
}

async function checkRun(h: Harness, runner: string) {
  const { sha, status, run } = await pushAndRun(h, runner);
  const store = h.runtime.engineStore;
  const [check] = h.standin.checkRunsNamed('maestro / run demo/ci', sha);
  expect(status).toBe(202);
  expect(check?.conclusion, check?.output.summary).toBe('success');
  expect(run.status).toBe('succeeded');
  // The run's source is the pushed commit of the repository's clone URL, as the payload said.
  const cloneUrl = h.standin.cloneUrl('acme/pipelines');
  expect(run.source).toEqual({ kind: 'git', repo: cloneUrl, commit: sha, ref: 'refs/heads/main' });
  for (const r of h.standin.gitRequests)
    say(
      `  stand-in git: ${r.method} /acme/pipelines.git${r.path} -> ${r.status} (Basic x-access-token:<installation token>)`,
    );
  say(`run ${run.id} ${run.status}  source ${run.source!.repo}@${sha.slice(0, 12)} (${run.source!.ref})`);

  // The test task ran the artifact the build task made from the pushed VERSION.
  expect(await store.taskOutputs(run.id, 'test')).toEqual({ greeting: 'hello 2.0.0' });
  const logs = (await store.listLogs(run.id)).map((l) => l.text);
  expect(logs.some((l) => /tested .*\/build\/dist\/greet: ok/.test(l))).toBe(true);
  for (const taskId of ['build', 'test']) {
    const [attempt] = await store.listAttempts(run.id, taskId);
    say(`  task ${taskId}: ${(await store.getTask(run.id, taskId)).state} on runner ${runner}`);
    for (const line of await store.listLogs(run.id, taskId)) say(`    | ${line.text}`);
    expect(attempt!.policyDecisionIds).toHaveLength(1);
  }

  // Policy: one recorded decision per task, allowing it, in the decision log of the data dir
  // (in the store's maestro.db; read-only, beside the runtime's own connection).
  const db = new DatabaseSync(join(h.dataDir, 'maestro.db'), { readOnly: true });
  const decisions = (
    db
      .prepare('SELECT task_id, allow, decision_id, bundle_digest FROM policy_decision_log WHERE run_id = ?')
      .all(run.id) as { task_id: string; allow: number; decision_id: string; bundle_digest: string }[]
  ).map((r) => ({
    taskId: r.task_id,
    allow: r.allow === 1,
    decisionId: r.decision_id,
    bundleDigest: r.bundle_digest,
  }));
  db.close();
  expect(decisions.map((d) => [d.taskId, d.allow]).sort()).toEqual([
    ['build', true],
    ['test', true],
  ]);
  for (const d of decisions)
    say(`  policy: ${d.decisionId} ${d.taskId} allow=${d.allow} bundle ${d.bundleDigest.slice(0, 19)}…`);

  // Receipts: signed by the configured key (not the development key), the build's subject is the
  // artifact's digest, the test's dependencies name it and the source commit.
  expect(h.runtime.signer!.publicKeyPem).toBe(key.publicPem);
  const digest = sha256(builtGreet('2.0.0'));
  const statements = new Map<string, Statement>();
  for (const receipt of await store.listReceipts(run.id)) {
    const verified = verifyBundle(receipt.bundle, { publicKey: key.publicPem });
    statements.set(receipt.taskId, verified.statement as unknown as Statement);
    say(
      `  receipt ${receipt.taskId || '(run)'}: verified with MAESTRO_SIGNING_KEY (${sha256(key.publicPem).slice(0, 12)}); subjects ${JSON.stringify((verified.statement as unknown as Statement).subject.map((s) => `${s.name}@sha256:${s.digest.sha256.slice(0, 12)}`))}`,
    );
  }
  const build = statements.get('build')!;
  expect(build.subject).toContainEqual({ name: 'artifacts/dist/greet', digest: { sha256: digest } });
  const decisionIds = decisions.filter((d) => d.taskId === 'build').map((d) => d.decisionId);
  expect(build.predicate.buildDefinition.internalParameters.maestro.policy?.decisionIds).toEqual(decisionIds);
  const deps = statements.get('test')!.predicate.buildDefinition.resolvedDependencies;
  expect(deps).toContainEqual({ name: 'artifacts/build/dist/greet', digest: { sha256: digest } });
  expect(deps.find((d) => d.name === 'source')?.digest).toEqual({ gitCommit: sha });

  // The installation token reached git (the stand-in refuses without one) and nothing else:
  // no file under the data dir (mirror, exports, workspaces, logs, SQLite files) holds it.
  const tokens = new Set(h.standin.gitRequests.map((r) => r.token));
  expect(h.standin.gitRequests.length).toBeGreaterThan(0);
  expect(h.standin.gitRequests.every((r) => r.token && r.status === 200)).toBe(true);
  for (const token of tokens) expect(filesContaining(h.dataDir, token!)).toEqual([]);
  say(
    `  installation token in files under the data dir: ${[...tokens].flatMap((t) => filesContaining(h.dataDir, t!)).length}`,
  );
  expect(await h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
  expect(h.standin.violations).toEqual([]);
}

describe('a push runs the repository’s own workflow on its own code', () => {
  it('on the local runner: build, artifact to test, policy decisions, receipts signed by the configured key', async () => {
    say('# local runner');
    const h = await startHarness({ runUpdateIntervalMs: 100, env: { MAESTRO_SIGNING_KEY: key.path } });
    try {
      await checkRun(h, 'local');
    } finally {
      await h.close();
    }
  }, 120_000);

  describe('on the container runner', () => {
    beforeAll(async () => {
      podman = await ensurePodmanService();
    }, 60_000);

    it('the same App configuration with DOCKER_HOST runs it in Podman', async () => {
      say('# container runner (DOCKER_HOST -> Podman)');
      const h = await startHarness({
        runUpdateIntervalMs: 100,
        env: {
          MAESTRO_SIGNING_KEY: key.path,
          DOCKER_HOST: `unix://${podman!.socketPath}`,
          MAESTRO_CONTAINER_IMAGE: TEST_IMAGE,
        },
      });
      try {
        await checkRun(h, 'container');
        const [record] = await h.runtime.engineStore.listRuns();
        expect((await h.runtime.engineStore.getRun(record!.id)).plan.tasks[0]!.runner).toBe('container');
      } finally {
        await h.close();
      }
    }, 180_000);
  });
});
