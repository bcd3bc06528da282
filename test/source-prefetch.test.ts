/**
 * A run's source is fetched before its tasks take one of the engine's slots: a slot holds a
 * running task, never a fetch. The fetch is the real one (the stand-in's git server, an
 * installation token asked for at fetch time); the token is held back until the test lets it
 * go, as a slow mint or a slow network would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { policyOff, RunnerRegistry, type RunSource } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore } from '../engine/index.ts';
import { createSourceFetcher } from '../workspace/index.ts';
import { GitHubStandIn, TestRepository } from './github-standin/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

let standin: GitHubStandIn;
let base: string;
let repo: TestRepository;
let commit: string;

beforeAll(async () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  standin = new GitHubStandIn({
    appId: '1',
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  base = await standin.start();
  repo = new TestRepository();
  commit = repo.commit({ branch: 'main', login: 'octocat', files: { 'hello.txt': 'fetched\n' } });
  standin.addRepo({ owner: 'acme', name: 'app', id: 7, bareDir: repo.bareDir, defaultBranch: 'main' });
});
afterAll(() => {
  standin.stop();
  repo.remove();
});

/** One engine slot, and a fetcher whose token is held until `release()`. */
function setup() {
  const dataDir = tempDir('maestro-prefetch-');
  const { token } = standin.issueInstallationToken(42);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let asked = 0;
  const runner = recordingLocalRunner();
  const store = openStore({ dataDir });
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('t');
  const engine = createEngine({
    tracer,
    policy: policyOff('source test: scheduling, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(runner),
    concurrency: 1,
    source: createSourceFetcher({
      dataDir,
      tokenFor: async () => {
        asked++;
        await held;
        return token;
      },
    }),
  });
  const source: RunSource = { kind: 'git', repo: `${base}/acme/app.git`, commit, ref: 'refs/heads/main' };
  const untilAsked = async () => {
    while (asked === 0) await new Promise((r) => setTimeout(r, 10));
  };
  return { engine, store, runner, source, release, untilAsked, spans };
}

describe('the source is fetched before a slot is taken', () => {
  it('a run without a source runs in the only slot while another run’s fetch is held', async () => {
    const { engine, store, runner, source, release, untilAsked, spans } = setup();
    const fetching = await engine.submit(planOf([shellTask('checkout', 'cat hello.txt')]), { source });
    const fetched = engine.execute(fetching);
    await untilAsked();
    const other = await engine.submit(planOf([shellTask('other', 'echo other')]));
    // With the slot held through the fetch, this run would wait for the token for ever.
    expect((await engine.execute(other)).status).toBe('succeeded');
    expect(runner.started).toEqual(['other#1']);
    release();
    expect((await fetched).status).toBe('succeeded');
    expect(store.listLogs(fetching).map((l) => l.text)).toContain('fetched');
    expect(runner.started).toEqual(['other#1', 'checkout#1']);
    // The fetch is a span of the run's, ended before the attempt's began.
    const finished = spans.getFinishedSpans();
    const exported = finished.find((s) => s.name === 'maestro.source.export')!;
    const run = finished.find(
      (s) => s.name === 'maestro.run' && s.attributes['maestro.run.id'] === fetching,
    )!;
    const attempt = finished.find(
      (s) => s.name === 'maestro.attempt' && s.spanContext().traceId === run.spanContext().traceId,
    )!;
    expect(exported.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(exported.attributes['vcs.ref.head.revision']).toBe(commit);
    const ns = ([sec, nanos]: [number, number]) => BigInt(sec) * 1_000_000_000n + BigInt(nanos);
    expect(ns(exported.endTime) <= ns(attempt.startTime)).toBe(true);
    await runner.close();
    store.close();
  }, 30_000);

  it('a run cancelled while its source is fetched never starts its tasks', async () => {
    const { engine, store, runner, source, release, untilAsked } = setup();
    const runId = await engine.submit(planOf([shellTask('checkout', 'cat hello.txt')]), { source });
    const done = engine.execute(runId);
    await untilAsked();
    await engine.cancel(runId, { by: 'user:alice' });
    release();
    const run = await done;
    expect(run.status).toBe('cancelled');
    expect(store.listTasks(runId).map((t) => [t.taskId, t.state])).toEqual([['checkout', 'cancelled']]);
    expect(runner.started).toEqual([]);
    await runner.close();
    store.close();
  }, 30_000);
});
