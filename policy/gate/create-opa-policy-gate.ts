import { randomUUID } from 'node:crypto';
import {
  digestOf,
  type Clock,
  type PolicyCorrelation,
  type PolicyDecision,
  type PolicyGate,
  type PolicyInput,
} from '../../core/index.ts';
import { readPolicyBundleFile, type PolicyBundle } from '../bundle/read-bundle.ts';
import { createPdp, unavailable, type PdpOptions, type PdpResult } from '../pdp/create-pdp.ts';
import { createWorkerPdp } from '../pdp/create-worker-pdp.ts';
import type { DecisionLog } from '../decision-log/open-decision-log.ts';

export interface OpaPolicyGateOptions {
  /**
   * The bundle: already read, a path to a bundle.tar.gz, a promise of one, or nothing. Anything
   * that fails to yield a loadable bundle makes every decision a fail-closed deny.
   */
  bundle: PolicyBundle | string | Promise<PolicyBundle> | null | undefined;
  log: DecisionLog;
  clock: Clock;
  /** Decision ids (default: random UUIDs). */
  ids?: () => string;
  pdp?: PdpOptions;
  /**
   * `worker` (default): evaluate on a worker thread with a hard deadline (an overrun terminates
   * the evaluation). `inline`: evaluate on the caller's thread (fastest; the deadline is checked
   * after the call, docs/policy.md "Deadline").
   */
  isolation?: 'worker' | 'inline';
}

export interface OpaPolicyGate extends PolicyGate {
  /** Resolves once the bundle is loaded (or known to be unusable); decisions wait for it anyway. */
  ready(): Promise<void>;
  /** The loaded bundle's digest, or `none` while no usable bundle is loaded. */
  bundleDigest(): string;
  /** Stops the policy worker, if any. */
  close(): Promise<void>;
}

interface LoadedPdp {
  digest: string;
  evaluate(input: unknown): PdpResult | Promise<PdpResult>;
  close(): Promise<void>;
}

type Loaded = { pdp: LoadedPdp } | { error: string };

/** No bundle digest to report because no usable bundle was loaded. */
export const NO_BUNDLE = 'none';

/**
 * PolicyGate backed by OPA wasm: decide() evaluates in-process with the one instantiated module,
 * appends the decision to the hash-chained log, and returns it. It fails closed (allow false,
 * unavailable true, `policy unavailable: …`) when it cannot evaluate, and throws when the
 * decision cannot be recorded, so the engine does not run the task.
 */
export function createOpaPolicyGate(options: OpaPolicyGateOptions): OpaPolicyGate {
  const ids = options.ids ?? randomUUID;
  const loading: Promise<Loaded> = load(options.bundle, options.isolation ?? 'worker', options.pdp);
  let digest = NO_BUNDLE;
  void loading.then((l) => {
    if ('pdp' in l) digest = l.pdp.digest;
  });

  return {
    ready: async () => void (await loading),
    bundleDigest: () => digest,
    close: async () => {
      const loaded = await loading;
      if ('pdp' in loaded) await loaded.pdp.close();
    },
    async decide(input: PolicyInput, correlation: PolicyCorrelation): Promise<PolicyDecision> {
      const loaded = await loading;
      const result: PdpResult =
        'pdp' in loaded ? await loaded.pdp.evaluate(input) : unavailable(loaded.error);
      const decision: PolicyDecision = {
        decisionId: ids(),
        allow: result.allow,
        reasons: result.reasons,
        unavailable: result.unavailable,
        bundleDigest: 'pdp' in loaded ? loaded.pdp.digest : NO_BUNDLE,
        inputDigest: digestInput(input),
        ...(result.allowedHosts ? { egressAllowedHosts: result.allowedHosts } : {}),
      };
      // Throws DecisionLogError: an unrecorded decision must not let the task run.
      await options.log.append({
        decisionId: decision.decisionId,
        time: new Date(options.clock.now()).toISOString(),
        runId: correlation.runId,
        taskId: correlation.taskId,
        attempt: correlation.attempt,
        deliveryId: correlation.deliveryId ?? null,
        inputDigest: decision.inputDigest,
        bundleDigest: decision.bundleDigest,
        allow: decision.allow,
        unavailable: decision.unavailable,
        reasons: decision.reasons,
      });
      return decision;
    },
  };
}

async function load(
  bundle: OpaPolicyGateOptions['bundle'],
  isolation: 'worker' | 'inline',
  pdpOptions: PdpOptions = {},
): Promise<Loaded> {
  if (bundle === null || bundle === undefined) return { error: 'no policy bundle is configured' };
  try {
    const read = typeof bundle === 'string' ? await readPolicyBundleFile(bundle) : await bundle;
    if (isolation === 'worker') {
      const { now: _now, ...workerOptions } = pdpOptions;
      return { pdp: await createWorkerPdp(read, workerOptions) };
    }
    const pdp = await createPdp(read, pdpOptions);
    return { pdp: { digest: pdp.digest, evaluate: (input) => pdp.evaluate(input), close: async () => {} } };
  } catch (error) {
    return { error: `cannot load the policy bundle: ${(error as Error).message ?? String(error)}` };
  }
}

/** An input that cannot be canonicalized (e.g. a cycle) still gets a decision: a fail-closed one. */
function digestInput(input: PolicyInput): string {
  try {
    return digestOf(input);
  } catch {
    return 'undigestible';
  }
}
