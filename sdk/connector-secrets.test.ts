import { describe, expect, it } from 'vitest';
import { maskText, maskValue, secretValues } from './connector-secrets.ts';

const schema = {
  type: 'object',
  properties: {
    host: { type: 'string' },
    password: { type: 'string', airbyte_secret: true },
    pin: { type: 'integer', airbyte_secret: true },
    tunnel: {
      oneOf: [
        { type: 'object', properties: { method: { const: 'none' } } },
        {
          type: 'object',
          properties: { method: { const: 'key' }, key: { type: 'string', airbyte_secret: true } },
        },
      ],
    },
    replicas: { type: 'array', items: { type: 'object', properties: { token: { airbyte_secret: true } } } },
  },
};

describe('connector secrets', () => {
  it('finds the values of every airbyte_secret property: nested, in a oneOf branch, in array items', () => {
    const config = {
      host: 'db.internal',
      password: 'pw-1',
      pin: 4711,
      tunnel: { method: 'key', key: 'ssh-key-abc' },
      replicas: [{ token: 'r-1' }, { token: { nested: 'r-2' } }],
    };
    expect(secretValues(schema, config).sort()).toEqual(['4711', 'pw-1', 'r-1', 'r-2', 'ssh-key-abc']);
    expect(secretValues(schema, { host: 'h', password: '' })).toEqual([]);
    expect(secretValues(schema, undefined)).toEqual([]);
  });

  it('masks them in text, in string leaves and keys, and a number that is one', () => {
    const secrets = secretValues(schema, { password: 'pw-1', pin: 4711, tunnel: { key: 'pw-1-long' } });
    expect(maskText('pw-1-long then pw-1', secrets)).toBe('*** then ***');
    expect(maskValue({ a: ['x pw-1'], 'pw-1': 4711, n: 3 }, secrets)).toEqual({
      a: ['x ***'],
      '***': '***',
      n: 3,
    });
    expect(maskValue({ a: 'pw-1' }, [])).toEqual({ a: 'pw-1' });
  });
});
