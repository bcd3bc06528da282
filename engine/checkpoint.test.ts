import { describe, expect, it } from 'vitest';
import { createRedactor } from '../core/index.ts';
import { checkpointFor, MAX_STORED_STATE_BYTES, storedState } from './checkpoint.ts';
import type { AttemptRecord } from './store/store.ts';

const at = (attempt: number, outcome: string, state: string | null) =>
  ({ attempt, outcome, state }) as AttemptRecord;

describe('checkpointFor: which earlier attempt a retry starts from', () => {
  it('is the latest failed attempt with a checkpoint; none on a first attempt', () => {
    expect(checkpointFor([], 1)).toBeUndefined();
    expect(checkpointFor([at(1, 'failed', '{"c":100}'), at(2, 'failed', '{"c":500}')], 3)).toBe('{"c":500}');
  });

  it('falls back past an attempt that left none (interrupted before its messages were read)', () => {
    expect(checkpointFor([at(1, 'failed', '{"c":500}'), at(2, 'interrupted', null)], 3)).toBe('{"c":500}');
  });

  it("never hands on a succeeded attempt's state: a later user retry starts fresh", () => {
    expect(
      checkpointFor([at(1, 'failed', '{"c":500}'), at(2, 'succeeded', '{"c":1000}')], 3),
    ).toBeUndefined();
    expect(checkpointFor([at(1, 'succeeded', '{"c":1000}'), at(2, 'failed', null)], 3)).toBeUndefined();
  });

  it('ignores attempts numbered at or after the one starting', () => {
    expect(checkpointFor([at(1, 'failed', '{"c":1}'), at(2, 'failed', '{"c":2}')], 2)).toBe('{"c":1}');
  });
});

describe('storedState', () => {
  it('redacts every secret leaf by leaf, keys included, whatever the runner knew', () => {
    const redact = createRedactor(['s3cr"et']);
    expect(storedState(JSON.stringify({ token: 's3cr"et', 's3cr"et': [1, 'x s3cr"et'] }), redact)).toBe(
      '{"token":"***","***":[1,"x ***"]}',
    );
  });

  it('stores nothing for no state, text that is not JSON, or a checkpoint over 1 MiB', () => {
    const redact = createRedactor([]);
    expect(storedState(undefined, redact)).toBeNull();
    expect(storedState('{not json', redact)).toBeNull();
    expect(storedState(JSON.stringify('x'.repeat(MAX_STORED_STATE_BYTES)), redact)).toBeNull();
  });
});
