/**
 * The policy gate, measured: each decision's latency and outcome go to the runtime's telemetry
 * (`maestro_policy_decision_duration_seconds` on the server). The decision itself passes through
 * unchanged, and a gate that throws still throws: measuring never changes what the engine does.
 */
import { isPolicyOff, type PolicyChoice, type TelemetrySink } from '../core/index.ts';

export function timedGate(
  choice: PolicyChoice,
  telemetry: TelemetrySink,
  now = () => performance.now(),
): PolicyChoice {
  if (isPolicyOff(choice)) return choice;
  return {
    async decide(input, correlation) {
      const start = now();
      const seconds = () => (now() - start) / 1000;
      try {
        const decision = await choice.decide(input, correlation);
        const outcome = decision.allow ? 'allow' : decision.unavailable ? 'deny_unavailable' : 'deny';
        telemetry.emit({ kind: 'policy_decision', seconds: seconds(), outcome });
        return decision;
      } catch (error) {
        telemetry.emit({ kind: 'policy_decision', seconds: seconds(), outcome: 'error' });
        throw error;
      }
    },
  };
}
