/**
 * The S3 ArtifactStore as the engine is given it: the AWS SDK (about a hundred modules) is loaded
 * on the first put, get or presign, not when `maestro validate` or a local run imports the engine
 * (test/cli-startup.test.ts). The store itself is s3-client-store.ts.
 */
import { DEFAULT_MAX_UPLOAD_BYTES, type ArtifactStore } from './artifact-store.ts';
import { s3Location, type S3ArtifactStoreOptions } from './s3-options.ts';

export type { S3ArtifactStoreOptions, S3Credentials } from './s3-options.ts';

export function s3ArtifactStore(options: S3ArtifactStoreOptions): ArtifactStore {
  let opened: Promise<ArtifactStore> | undefined;
  const store = () => (opened ??= import('./s3-client-store.ts').then((m) => m.openS3ClientStore(options)));
  return {
    kind: 's3',
    location: s3Location(options),
    put: async (object, file) => (await store()).put(object, file),
    get: async (object, target, getOptions) => (await store()).get(object, target, getOptions),
    presignGet: async (object, ttlSeconds) => (await store()).presignGet!(object, ttlSeconds),
    uploads: {
      maxBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      presignPut: async (name, ttlSeconds) => (await store()).uploads!.presignPut(name, ttlSeconds),
      open: async (name) => (await store()).uploads!.open(name),
      remove: async (name) => (await store()).uploads!.remove(name),
    },
    close() {
      void opened?.then((s) => s.close());
    },
  };
}
