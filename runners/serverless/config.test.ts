import { describe, expect, it } from 'vitest';
import { functionFor, parseServerlessConfig } from './config.ts';

const base = {
  endpoint: 'https://lambda.eu-west-1.amazonaws.com',
  function: 'task',
  credentialsFile: '/etc/maestro/aws.json',
};

describe('parseServerlessConfig', () => {
  it('fills the defaults and maps tasks to functions', () => {
    const config = parseServerlessConfig({ ...base, functions: { deploy: 'deployer' } });
    expect(config).toMatchObject({ region: 'us-east-1', timeoutMs: 900_000, concurrency: 16, retries: 2 });
    expect(functionFor(config, 'deploy')).toBe('deployer');
    expect(functionFor(config, 'build')).toBe('task');
  });

  it.each([
    [{ ...base, endpoint: 'http://lambda.example.com' }, /must be https/],
    [{ ...base, endpoint: 'not a url' }, /not a URL/],
    [{ ...base, function: undefined }, /needs `function` or `functions`/],
    [{ ...base, credentialsFile: undefined }, /credentialsFile` is required/],
    [{ ...base, accessKeyId: 'AKIA' }, /unknown key `serverless.accessKeyId`/],
    [{ ...base, concurrency: 0 }, /concurrency` must be a whole number of at least 1/],
    [{ ...base, functions: { a: '' } }, /functions.a` must be a function name/],
  ])('refuses %o', (section, message) => {
    expect(() => parseServerlessConfig(section as Record<string, unknown>)).toThrow(message);
  });

  it('allows plain http on a loopback address only (the emulator)', () => {
    expect(parseServerlessConfig({ ...base, endpoint: 'http://127.0.0.1:9000/' }).endpoint).toBe(
      'http://127.0.0.1:9000',
    );
  });
});
