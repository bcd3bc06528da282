/**
 * RFC 8785 canonical JSON, the same algorithm as core's `canonicalJson` (keys sorted by UTF-16
 * code units, JSON.stringify for strings and numbers), fast: when every object in the value
 * already enumerates its keys in canonical order (the planner builds them so), it is exactly
 * `JSON.stringify`. Otherwise it serialises node by node. Tests check byte-identical output to
 * core's `canonicalJson` and that `digestOf(plan without digest)` equals the plan's digest.
 */
export function canonicalFast(value: unknown): string {
  return isCanonicalOrder(value) ? JSON.stringify(value) : canonicalSlow(value);
}

/** True when JSON.stringify(value) is already its canonical JSON; throws on unrepresentable values. */
function isCanonicalOrder(value: unknown): boolean {
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
      if (Array.isArray(value)) {
        for (const item of value) if (item === undefined || !isCanonicalOrder(item)) return false;
        return true;
      }
      let previous: string | undefined;
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) return false;
        if (!key.isWellFormed()) throw new TypeError('Lone surrogate is not allowed');
        const item = (value as Record<string, unknown>)[key];
        if (item !== undefined && !isCanonicalOrder(item)) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

function canonicalSlow(value: unknown): string {
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
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : canonicalSlow(item));
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        out += `${first ? '' : ','}${canonicalSlow(key)}:${canonicalSlow(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be represented as JSON`);
  }
}

/** Canonical JSON of a value whose objects were built in key order when `ordered` (userDataInOrder). */
export function canonicalText(value: unknown, ordered: boolean): string {
  return ordered ? JSON.stringify(value) : canonicalSlow(value);
}

/** True when every object of user data (`with`, `env`, labels, defaults) enumerates keys in canonical order. */
export function userDataInOrder(value: unknown): boolean {
  return value === undefined || isCanonicalOrder(value);
}
