/**
 * The images an attempt reports it built (`image` messages) get an SBOM made with the host's
 * registry credentials and signed with the receipts key (engine/attempt-finish.ts): only for a
 * trusted run. An untrusted run (a fork's pull request) must not make the engine pull and sign
 * whatever it names. The engine is real (SQLite store, scheduler, attempt finish); the runner is a
 * stand-in that reports what a runner reports through the port (AttemptResult.builtImages), and the
 * recorder counts what it is asked to record. Removing the trust guard fails the second test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  AttemptOutcome,
  policyOff,
  RunnerRegistry,
  type BuiltImageRecorder,
  type BuiltImageReport,
  type Runner,
} from '../core/index.ts';
import { createEngine, openAsyncStore, type AsyncStore } from '../engine/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';

const IMAGE = `registry.example/team/app@sha256:${'a'.repeat(64)}`;

/** A runner whose every attempt succeeds at once, reporting that it built and pushed IMAGE. */
const building: Runner = {
  kind: 'local',
  posture: () => ({ privileged: false, hostNetwork: false }),
  start: async () => {
    const now = Date.now();
    const result = {
      outcome: AttemptOutcome.succeeded,
      exitCode: 0,
      retryable: false,
      outputs: {},
      startedAt: now,
      finishedAt: now,
      builtImages: [IMAGE],
    };
    return {
      logs: async function* () {},
      wait: async () => result,
      cancel: async () => undefined,
    };
  },
};

const stores: AsyncStore[] = [];
afterAll(async () => {
  for (const store of stores) await store.close();
});

async function runBuilding(trust: 'trusted' | 'untrusted') {
  const dataDir = tempDir('maestro-built-images-');
  const store = await openAsyncStore({ dataDir });
  stores.push(store);
  const recorded: BuiltImageReport[] = [];
  const builtImages: BuiltImageRecorder = {
    record: async (report) => {
      recorded.push(report);
      return { sbomDigest: `sha256:${'b'.repeat(64)}`, components: 2 };
    },
  };
  const engine = createEngine({
    policy: policyOff('built images test: trust, not policy'),
    store,
    dataDir,
    catalog: await loadBuiltinCatalog(),
    runners: new RunnerRegistry().register(building),
    builtImages,
  });
  const runId = await engine.submit(planOf([shellTask('build', 'unused')]), { trust });
  expect((await engine.execute(runId)).status).toBe('succeeded');
  // The recording is deferred (off the critical path): wait for its note in the task's log.
  let notes: string[] = [];
  for (let i = 0; i < 500; i++) {
    notes = (await store.listLogs(runId, 'build')).map((l) => l.text).filter((t) => t.includes(IMAGE));
    if (notes.length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { recorded, notes };
}

describe('SBOMs of built images and the run’s trust', () => {
  it('a trusted run’s reported image is recorded (its SBOM made and signed)', async () => {
    const { recorded, notes } = await runBuilding('trusted');
    expect(recorded.map((r) => r.image)).toEqual([IMAGE]);
    expect(notes).toEqual([expect.stringMatching(/^sbom stored for /)]);
  });

  it('an untrusted run’s reported image is never recorded: nothing pulled with the host’s credentials, nothing signed', async () => {
    const { recorded, notes } = await runBuilding('untrusted');
    expect(recorded).toEqual([]);
    expect(notes).toEqual([`built images of an untrusted run are not recorded: ${IMAGE}`]);
  });
});
