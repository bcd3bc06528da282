import { createHash } from 'node:crypto';

/**
 * RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code units, strings and numbers
 * as JSON.stringify writes them. Byte for byte what the reference implementation's package
 * (`canonicalize`) gives, so our digests stay reproducible by any JCS implementation an auditor
 * picks (canonical.test.ts compares the two), but cheaper: it ran for every receipt, policy
 * input and decision log entry on the engine's main thread (bench/run/RESULTS.md), and when
 * every object in the value already enumerates its keys in canonical order (the planner builds
 * them so) it is exactly `JSON.stringify`.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol')
    throw new TypeError('value cannot be represented as canonical JSON');
  if (inCanonicalOrder(value)) return JSON.stringify(value);
  const copy = sortedCopy(value, new Set());
  return copy === needsNodes ? canonicalNodes(value) : JSON.stringify(copy);
}

/** An object has a key JavaScript enumerates before the others whatever the insertion order. */
const needsNodes = Symbol('needsNodes');
const arrayIndex = /^(?:0|[1-9]\d*)$/;

/**
 * The value with every object's members inserted in canonical order, for JSON.stringify (native,
 * about three times faster than writing it node by node here). Not for an object with an
 * array-index key ("2", "10"): those enumerate first, in numeric order, whatever the insertion
 * order; nor for a "__proto__" key. Such a value is written node by node.
 */
function sortedCopy(value: unknown, seen: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'string' && !value.isWellFormed())
      throw new TypeError('Lone surrogate is not allowed');
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError('NaN and Infinity are not allowed');
    if (typeof value === 'function' || typeof value === 'bigint')
      throw new TypeError(`a ${typeof value} cannot be represented as JSON`);
    return value;
  }
  if (seen.has(value)) throw new TypeError('Circular reference detected');
  seen.add(value);
  const copy = sortedObject(value, seen);
  seen.delete(value);
  return copy;
}

function sortedObject(value: object, seen: Set<object>): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return sortedCopy(toJSON.call(value), seen);
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const copy = item === undefined || typeof item === 'symbol' ? null : sortedCopy(item, seen);
      if (copy === needsNodes) return needsNodes;
      out[i] = copy;
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'symbol') continue;
    if (!key.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
    // Assigned, "__proto__" would set the copy's prototype rather than add a member.
    if (key === '__proto__' || arrayIndex.test(key)) return needsNodes;
    const copy = sortedCopy(item, seen);
    if (copy === needsNodes) return needsNodes;
    out[key] = copy;
  }
  return out;
}

/**
 * True when JSON.stringify(value) is already its canonical JSON: every object's keys enumerate
 * sorted and nothing needs what JSON.stringify does differently (toJSON, undefined or a symbol
 * in an array, a function). Throws on what canonical JSON cannot hold (NaN, Infinity, a lone
 * surrogate).
 */
export function inCanonicalOrder(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
      return true;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('NaN and Infinity are not allowed');
      return true;
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      if (Array.isArray(value)) {
        for (const item of value) if (item === undefined || !inCanonicalOrder(item)) return false;
        return true;
      }
      let previous: string | undefined;
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) return false;
        if (!key.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
        const item = (value as Record<string, unknown>)[key];
        if (item !== undefined && !inCanonicalOrder(item)) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Node by node, for a value `inCanonicalOrder` refused and `sortedCopy` cannot order: keys sorted; an undefined or symbol
 * member left out and in an array written null, a `toJSON` followed, as the reference package does.
 */
export function canonicalNodes(value: unknown, seen = new Set<object>()): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('NaN and Infinity are not allowed');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (seen.has(value)) throw new TypeError('Circular reference detected');
      seen.add(value);
      const text = objectNodes(value, seen);
      seen.delete(value);
      return text;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be represented as JSON`);
  }
}

function objectNodes(value: object, seen: Set<object>): string {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonicalNodes(toJSON.call(value), seen);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const absent = item === undefined || typeof item === 'symbol';
      out += (i === 0 ? '' : ',') + (absent ? 'null' : canonicalNodes(item, seen));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined || typeof item === 'symbol') continue;
    out += `${first ? '' : ','}${canonicalNodes(key, seen)}:${canonicalNodes(item, seen)}`;
    first = false;
  }
  return `${out}}`;
}

/** `sha256:<hex>` of bytes or a string (UTF-8). */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `sha256:<hex>` of a value's canonical JSON. */
export function digestOf(value: unknown): string {
  return sha256Digest(canonicalJson(value));
}
