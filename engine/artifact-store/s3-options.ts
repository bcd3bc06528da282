/** What configures the S3 artifact store, without the SDK (the composition root reads it at start). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix, empty or ending in `/`. */
  prefix: string;
  region: string;
  /** An S3-compatible server's URL (path-style requests); unset for AWS S3 itself. */
  endpoint?: string;
  /** Unset: the SDK's default chain (web identity, container or instance role). */
  credentials?: () => S3Credentials;
  /** The largest upload a pod may hand back (bytes; MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES). Default 1 GiB. */
  maxUploadBytes?: number;
}

/** Where the objects are, for logs and errors: never a credential. */
export function s3Location(options: S3ArtifactStoreOptions): string {
  return `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
}
