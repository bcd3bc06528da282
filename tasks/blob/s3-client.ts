// The S3 client of one blob task: region, endpoint and credentials given explicitly, so the AWS
// SDK's own environment and profile lookup never decides where the bytes go or whose key signs
// them. The access keys are secrets (env:, redacted by the runner) and are never in a message.
import { S3Client } from '@aws-sdk/client-s3';
import { secretIfGiven, type TaskContext } from '../../sdk/index.ts';
import { endpointUrl } from './endpoint.ts';

export interface ClientInputs {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

export function s3ClientFor(inputs: ClientInputs, ctx: Pick<TaskContext, 'secret'>): S3Client {
  const endpoint = inputs.endpoint === undefined ? undefined : endpointUrl(inputs.endpoint, 's3').href;
  const session = secretIfGiven(ctx, 'AWS_SESSION_TOKEN');
  return new S3Client({
    region: inputs.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    // An S3-compatible server on its own host name has no per-bucket subdomains.
    forcePathStyle: inputs.forcePathStyle ?? endpoint !== undefined,
    credentials: {
      accessKeyId: ctx.secret('AWS_ACCESS_KEY_ID'),
      secretAccessKey: ctx.secret('AWS_SECRET_ACCESS_KEY'),
      ...(session ? { sessionToken: session } : {}),
    },
    maxAttempts: 3,
    // The task computes and outputs the sha256 of what it moved; that is the check that counts.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}
