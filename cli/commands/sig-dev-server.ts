import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../core/index.ts';
import { createSigDevServer } from '../../api/index.ts';
import { CONTRACT_VERSIONS, type ContractVersion } from '../../sig/index.ts';
import type { CliContext } from '../context.ts';
import { serverLogger, untilSignal } from '../app-runtime-options.ts';

const EXAMPLES = `
Examples:
  $ maestro sig-dev-server                          # every contract, v1-v3, on 127.0.0.1:8787
  $ maestro sig-dev-server --port 0 --versions 1,2  # an N-1 SIG on a free port (the URL is printed)
  $ maestro sig-dev-server --workload-key receipts.pub.pem  # only signed workload identities get in

It prints its URL on the first line of stdout, checks every request against the contract
(docs/sig.md) and keeps what it receives in memory until it stops (SIGINT or SIGTERM).`;

export function registerSigDevServer(program: Command, context: CliContext): void {
  program
    .command('sig-dev-server')
    .description(
      'Run the SIG reference server: every version of the ingest, claims and runbook-trigger contracts',
    )
    .option('--port <port>', 'port to listen on (0: a free one)', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--versions <list>', 'contract majors to serve, comma-separated', CONTRACT_VERSIONS.join(','))
    .option('--stream-window <n>', 'records a stream client may have unacknowledged', '64')
    .option(
      '--workload-key <file>',
      "require a Maestro workload identity signed by this public key (PEM: the receipts' key, GET /v1/keys)",
    )
    .option('--audience <aud>', 'the audience a workload identity must be for', 'sig')
    .addHelpText('after', EXAMPLES)
    .action(async (o: Options) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${o.port} is not a port`);
      const window = Number(o.streamWindow);
      if (!Number.isInteger(window) || window < 1)
        throw new UsageError(`--stream-window ${o.streamWindow} is not a whole number above 0`);
      const versions = parseVersions(o.versions);
      const server = createSigDevServer({
        versions: { ingest: versions, claims: versions, 'runbook-trigger': versions },
        streamWindow: window,
        ...(o.workloadKey
          ? { workloadIdentity: { publicKeysPem: [readKey(o.workloadKey)], audience: o.audience } }
          : {}),
      });
      const url = await server.listen(port, o.host);
      context.io.stdout(`${url}\n`);
      serverLogger(context.io).info({ url, versions }, 'SIG reference server listening');
      await untilSignal();
      await server.close();
    });
}

interface Options {
  port: string;
  host: string;
  versions: string;
  streamWindow: string;
  workloadKey?: string;
  audience: string;
}

function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--workload-key ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
}

function parseVersions(list: string): ContractVersion[] {
  const versions = list.split(',').map((v) => Number(v.trim().replace(/^v/, '')));
  const unknown = versions.filter((v) => !CONTRACT_VERSIONS.includes(v as ContractVersion));
  if (unknown.length > 0 || versions.length === 0)
    throw new UsageError(`--versions ${list}: each must be one of ${CONTRACT_VERSIONS.join(', ')}`);
  return [...new Set(versions)].sort() as ContractVersion[];
}
