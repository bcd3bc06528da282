/**
 * Starts a real S3-compatible server for one test file: gofakes3 (built from the Go module proxy
 * by scripts/setup/gofakes3.sh into ~/.cache/maestro/bin) as its own process, in-memory, on a
 * free port of 127.0.0.1, with one bucket. The tests talk to it over HTTP with the real AWS SDK.
 * gofakes3 accepts any credentials (it does not check signatures): tests of who may write the
 * bucket cannot be made against it. Fails loudly (never skips) when gofakes3 is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3ArtifactStoreOptions } from '../../engine/index.ts';

const SETUP_HINT = 'run `bash scripts/setup/gofakes3.sh` (builds gofakes3 into ~/.cache/maestro/bin)';

export interface S3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  /** Test credentials (gofakes3 takes any); what the AWS_* variables would hold. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client of the server, for the test's own looks into the bucket. */
  client(): S3Client;
  /** The S3 artifact store's options for this server's bucket under `prefix` (`x/`). */
  storeOptions(prefix: string): S3ArtifactStoreOptions;
  stop(): Promise<void>;
}

function binary(): string {
  const path = join(process.env.GOBIN ?? join(homedir(), '.cache', 'maestro', 'bin'), 'gofakes3');
  if (!existsSync(path)) throw new Error(`gofakes3 is not installed at ${path}: ${SETUP_HINT}`);
  return path;
}

/** Resolves with the port once gofakes3 logs `using port: N`; rejects if it exits first. */
function portOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      const port = /using port: (\d+)/.exec(log)?.[1];
      if (port) {
        child.stderr!.off('data', onData);
        resolve(Number(port));
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gofakes3 exited (${code}) before listening: ${log}`)));
  });
}

export async function startS3Server(bucket = 'maestro-artifacts'): Promise<S3Server> {
  const child = spawn(binary(), ['-backend', 'memory', '-host', '127.0.0.1:0', '-initialbucket', bucket], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const port = await portOf(child);
  // Keep reading its log so a full pipe never blocks it.
  child.stderr!.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'maestro-test', secretAccessKey: 'maestro-test-secret-0b7d1c' };
  const clients: S3Client[] = [];
  return {
    endpoint,
    bucket,
    credentials,
    storeOptions: (prefix) => ({
      bucket,
      prefix,
      region: 'us-east-1',
      endpoint,
      credentials: () => credentials,
    }),
    client() {
      const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
