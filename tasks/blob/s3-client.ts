// The S3 client of one blob task: region, endpoint and credentials given explicitly, so the AWS
// SDK's own environment and profile lookup never decides where the bytes go or whose key signs
// them. The access keys are secrets (env:, redacted by the runner) and are never in a message.
import { S3Client } from '@aws-sdk/client-s3';
import { secretIfGiven, TaskError, type TaskContext } from '../../sdk/index.ts';

export interface ClientInputs {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

export function s3ClientFor(inputs: ClientInputs, ctx: Pick<TaskContext, 'secret'>): S3Client {
  const endpoint = inputs.endpoint === undefined ? undefined : endpointUrl(inputs.endpoint);
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

function endpointUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TaskError('blob_endpoint_invalid', `/endpoint is not a URL: ${JSON.stringify(text)}`, {
      hint: 'give the S3-compatible server as http(s)://host:port',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TaskError('blob_endpoint_invalid', `/endpoint must be http(s), not ${url.protocol}`);
  if (url.username || url.password)
    throw new TaskError(
      'blob_endpoint_invalid',
      '/endpoint holds credentials, which with: would store with the plan',
      {
        hint: 'pass AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as secrets in env:',
      },
    );
  return url.href;
}
