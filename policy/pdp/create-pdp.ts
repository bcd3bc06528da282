import * as opaWasm from '@open-policy-agent/opa-wasm';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { PolicyBundleError } from '../errors.ts';
import type { PolicyBundle } from '../bundle/read-bundle.ts';
import { compileInputCheck, type InputCheck } from './validate-input.ts';

/** What the decision point answers: the policy's result, or an honest "could not decide". */
export interface PdpResult {
  allow: boolean;
  reasons: string[];
  unavailable: boolean;
  /** The policy's egress allow-list, when its result carries one (`allowed_hosts`). */
  allowedHosts?: string[];
}

export interface PdpOptions {
  /**
   * Deadline for one evaluation, in ms (default 500). The wasm call is synchronous and cannot be
   * interrupted on this thread, so the deadline is enforced after the fact (a late result is
   * discarded and the decision fails closed) and bounded before the fact by `maxInputBytes` and
   * the wasm memory ceiling. docs/policy.md, "Deadline".
   */
  timeoutMs?: number;
  /** Largest serialized input evaluated (default 64 KiB); larger inputs fail closed. */
  maxInputBytes?: number;
  /** Wasm memory ceiling in 64 KiB pages (default 1024 = 64 MiB); running out is an evaluation error. */
  maxMemoryPages?: number;
  /** Monotonic milliseconds (injected so tests can exercise the deadline deterministically). */
  now?: () => number;
}

export interface Pdp {
  readonly digest: string;
  evaluate(input: unknown): PdpResult;
}

const UNAVAILABLE = 'policy unavailable';

/**
 * 500 ms: decisions take tens of µs (bench/policy), but on a loaded 2-core machine a single GC
 * pause or preemption measured 56 ms, and a deadline that close would turn scheduler noise into
 * spurious fail-closed denies. The deadline is there to stop runaway policies, not slow machines.
 */
export const DEFAULT_TIMEOUT_MS = 500;

export function unavailable(what: string): PdpResult {
  return { allow: false, unavailable: true, reasons: [`${UNAVAILABLE}: ${what}`] };
}

/**
 * Instantiates the bundle's wasm ONCE and loads its data ONCE; `evaluate` then only copies the
 * input into the instance's memory and runs the entrypoint. Throws PolicyBundleError when the
 * wasm cannot be instantiated (a corrupt bundle); every later failure is a fail-closed result.
 */
export async function createPdp(bundle: PolicyBundle, options: PdpOptions = {}): Promise<Pdp> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxInputBytes = options.maxInputBytes ?? 64 * 1024;
  const now = options.now ?? (() => performance.now());
  let policy: LoadedPolicy;
  try {
    // `loadPolicySync`, not `loadPolicy`: that one asks `wasm instanceof Response`, and the first
    // read of the global `Response` loads Node's fetch (undici: 745 KB of source, a few MiB of a
    // local run's peak; issue 18). The same module, instance and memory either way (a policy is
    // ~150 KB of wasm: compiling it synchronously is sub-millisecond work). The package's ESM
    // entry has it only on its default export (its types declare a named one it does not have).
    policy = opaDefault().loadPolicySync(bundle.wasm, {
      initial: 8,
      maximum: options.maxMemoryPages ?? 1024,
    });
    policy.setData(bundle.data);
  } catch (error) {
    throw new PolicyBundleError(`${bundle.source}: the policy wasm cannot be loaded: ${describe(error)}`, {
      cause: error,
      hint: 'rebuild the bundle with `maestro policy build`',
    });
  }
  const check: InputCheck = compileInputCheck();
  const encoder = new TextEncoder();
  return {
    digest: bundle.digest,
    evaluate(input) {
      const problem = check(input);
      if (problem !== undefined)
        return unavailable(`input does not match the policy input schema: ${problem}`);
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = encoder.encode(JSON.stringify(input));
      } catch (error) {
        return unavailable(`input cannot be serialized: ${describe(error)}`);
      }
      if (bytes.byteLength > maxInputBytes)
        return unavailable(`input is ${bytes.byteLength} bytes, over the ${maxInputBytes}-byte bound`);
      const started = now();
      let raw: unknown;
      try {
        raw = policy.evaluate(bytes.buffer);
      } catch (error) {
        return unavailable(`evaluation error: ${describe(error)}`);
      }
      const elapsed = now() - started;
      if (elapsed > timeoutMs)
        return unavailable(`evaluation took ${elapsed.toFixed(1)} ms, over the ${timeoutMs} ms deadline`);
      return readResult(raw);
    },
  };
}

/** The entrypoint must yield exactly one {allow: boolean, reasons: string[]}; anything else fails closed. */
function readResult(raw: unknown): PdpResult {
  if (!Array.isArray(raw) || raw.length === 0) return unavailable('the policy result is undefined');
  const result = (raw[0] as { result?: unknown }).result;
  if (result === undefined) return unavailable('the policy result is undefined');
  const { allow, reasons } = (result ?? {}) as { allow?: unknown; reasons?: unknown };
  if (typeof allow !== 'boolean' || !Array.isArray(reasons) || !reasons.every((r) => typeof r === 'string'))
    return unavailable('the policy result is not {allow: boolean, reasons: [string]}');
  if (allow && reasons.length > 0) return unavailable('the policy allowed with deny reasons');
  if (!allow && reasons.length === 0)
    return { allow: false, unavailable: false, reasons: ['denied by policy'] };
  const hosts = (result as { allowed_hosts?: unknown }).allowed_hosts;
  if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === 'string')))
    return unavailable('the policy result has an allowed_hosts that is not [string]');
  return {
    allow,
    reasons: reasons as string[],
    unavailable: false,
    ...(hosts ? { allowedHosts: hosts } : {}),
  };
}

const opaDefault = () => (opaWasm as unknown as { default: typeof opaWasm }).default;

/** opa-wasm throws strings and plain objects as well as Errors. */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  return String(error);
}
