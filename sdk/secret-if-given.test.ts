import { describe, expect, it } from 'vitest';
import { TaskError } from './errors.ts';
import { secretIfGiven } from './secret-if-given.ts';

describe('secretIfGiven', () => {
  const missing = () => {
    throw new TaskError('secret_missing', 'not given');
  };
  it('is the secret when given, undefined when the manifest did not pass it', () => {
    expect(secretIfGiven({ secret: () => 's3cret' }, 'TOKEN')).toBe('s3cret');
    expect(secretIfGiven({ secret: missing }, 'TOKEN')).toBeUndefined();
  });
  it('any other failure still throws', () => {
    expect(() =>
      secretIfGiven(
        {
          secret: () => {
            throw new Error('store down');
          },
        },
        'TOKEN',
      ),
    ).toThrow('store down');
  });
});
