import { describe, expect, it } from 'vitest';
import { policyOff, type PolicyDecision, type PolicyGate, type TelemetrySignal } from '../core/index.ts';
import { timedGate } from './timed-gate.ts';

const decision = (allow: boolean, unavailable = false): PolicyDecision => ({
  decisionId: 'd',
  allow,
  reasons: [],
  unavailable,
  bundleDigest: 'b',
  inputDigest: 'i',
});

describe('timedGate', () => {
  it('passes each decision through unchanged and reports its latency and outcome', async () => {
    const signals: TelemetrySignal[] = [];
    const answers = [decision(true), decision(false), decision(false, true)];
    const gate: PolicyGate = { decide: async () => answers.shift()! };
    let t = 0;
    const timed = timedGate(gate, { emit: (s) => signals.push(s) }, () => (t += 2)) as PolicyGate;
    const input = {} as Parameters<PolicyGate['decide']>[0];
    const at = { runId: 'r', taskId: 't', attempt: 1 };
    expect((await timed.decide(input, at)).allow).toBe(true);
    expect((await timed.decide(input, at)).allow).toBe(false);
    expect((await timed.decide(input, at)).unavailable).toBe(true);
    expect(signals.map((s) => s.kind === 'policy_decision' && s.outcome)).toEqual([
      'allow',
      'deny',
      'deny_unavailable',
    ]);
    expect(signals[0]).toMatchObject({ seconds: 0.002 });
  });

  it('still throws when the gate throws (the task does not run), and leaves policy off as it is', async () => {
    const signals: TelemetrySignal[] = [];
    const broken: PolicyGate = {
      decide: async () => {
        throw new Error('log unwritable');
      },
    };
    const timed = timedGate(broken, { emit: (s) => signals.push(s) }) as PolicyGate;
    await expect(timed.decide({} as never, { runId: 'r', taskId: 't', attempt: 1 })).rejects.toThrow(
      'log unwritable',
    );
    expect(signals).toMatchObject([{ kind: 'policy_decision', outcome: 'error' }]);
    const off = policyOff('--policy off');
    expect(timedGate(off, { emit: () => undefined })).toBe(off);
  });
});
