import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { artifactStoreFrom } from './artifact-store-setting.ts';
import { runtimeConfigFromEnv } from './config-from-env.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const keys = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: SECRET };

describe('MAESTRO_ARTIFACT_STORE', () => {
  it('unset keeps artifacts in the data dir; s3://bucket/prefix names the bucket and a prefix', () => {
    expect(artifactStoreFrom({})).toBeUndefined();
    expect(artifactStoreFrom({ MAESTRO_ARTIFACT_STORE: '' })).toBeUndefined();
    const setting = artifactStoreFrom({
      MAESTRO_ARTIFACT_STORE: 's3://ci-artifacts/maestro/prod/',
      MAESTRO_ARTIFACT_STORE_ENDPOINT: 'http://127.0.0.1:9000',
      AWS_REGION: 'eu-west-1',
      ...keys,
    });
    expect(setting).toMatchObject({
      bucket: 'ci-artifacts',
      prefix: 'maestro/prod/',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
    });
    expect(setting!.credentials!()).toEqual({ accessKeyId: keys.AWS_ACCESS_KEY_ID, secretAccessKey: SECRET });
    expect(artifactStoreFrom({ MAESTRO_ARTIFACT_STORE: 's3://b-1' })).toMatchObject({
      prefix: '',
      region: 'us-east-1',
    });
  });

  it('fails closed on a bad URL, credentials in the endpoint, plain http off loopback, one key alone', () => {
    const refused = (env: Record<string, string>) => {
      try {
        artifactStoreFrom({ MAESTRO_ARTIFACT_STORE: 's3://bucket', ...env });
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error('accepted');
    };
    expect(refused({ MAESTRO_ARTIFACT_STORE: 'gs://bucket' })).toMatchObject({ code: 'usage' });
    expect(refused({ MAESTRO_ARTIFACT_STORE: 's3://Bad_Bucket' })).toMatchObject({ code: 'usage' });
    const withCreds = refused({ MAESTRO_ARTIFACT_STORE_ENDPOINT: 'https://id:s3cr3t@minio.example' });
    expect(withCreds.message).toContain('must not hold credentials');
    expect(withCreds.message).not.toContain('s3cr3t');
    expect(refused({ MAESTRO_ARTIFACT_STORE_ENDPOINT: 'http://minio.example:9000' }).message).toContain(
      'plain http',
    );
    expect(refused({ AWS_ACCESS_KEY_ID: 'AKIA' }).message).toContain('without AWS_SECRET_ACCESS_KEY');
    for (const bad of ['0', '-1', '1e9', '12 MiB'])
      expect(refused({ MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES: bad }).message).toContain(
        'MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES',
      );
    expect(
      artifactStoreFrom({ MAESTRO_ARTIFACT_STORE: 's3://bucket', MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES: '4096' }),
    ).toMatchObject({ maxUploadBytes: 4096 });
    expect(
      artifactStoreFrom({
        MAESTRO_ARTIFACT_STORE: 's3://bucket',
        MAESTRO_ARTIFACT_STORE_ENDPOINT: 'https://minio.example:9000/x',
      })?.endpoint,
    ).toBe('https://minio.example:9000');
  });

  it('the runtime configuration can be printed without the secret key', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'maestro-artifact-setting-'));
    const config = runtimeConfigFromEnv(
      { HOME: cwd, MAESTRO_DATA_DIR: join(cwd, 'data'), MAESTRO_ARTIFACT_STORE: 's3://bucket', ...keys },
      { cwd, socketExists: () => false },
    );
    expect(config.artifactStore?.bucket).toBe('bucket');
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(inspect(config, { depth: 10 })).not.toContain(SECRET);
    // Tasks on the local runner get only PATH, HOME, LANG and TMPDIR from this environment.
    expect(JSON.stringify(config.baseEnv)).not.toContain(SECRET);
  });
});
