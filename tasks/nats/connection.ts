// The connection of one nats task. Credentials are secrets passed in env: (NATS_TOKEN, or
// NATS_USER with NATS_PASSWORD), never in `servers` (which with: would store with the plan), and
// no message quotes them: a refused connection names the servers only. Credentials cross the
// network only inside TLS: to a server beyond loopback the connection must be TLS before CONNECT
// (which carries them in plain JSON), else it fails `credential_in_clear`.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isLoopbackHost } from '../../core/index.ts';
import { secretIfGiven, TaskError, type TaskContext } from '../../sdk/index.ts';

export async function connectTo(
  servers: readonly string[],
  timeoutMs: number,
  ctx: Pick<TaskContext, 'secret'>,
): Promise<NatsConnection> {
  const hosts = servers.map((server, index) => checkServer(server, `/servers/${index}`));
  const token = secretIfGiven(ctx, 'NATS_TOKEN');
  const user = secretIfGiven(ctx, 'NATS_USER');
  const pass = secretIfGiven(ctx, 'NATS_PASSWORD');
  const remote = token || user || pass ? hosts.find((host) => !isLoopbackHost(host)) : undefined;
  try {
    return await connect({
      servers: [...servers],
      timeout: timeoutMs,
      // A task is short-lived: fail now rather than reconnect in the background past its deadline.
      reconnect: false,
      name: 'maestro-task-nats',
      // With `tls` set the client refuses a server whose INFO offers no TLS before it says
      // CONNECT, and verifies the certificate (system roots) before it does.
      ...(remote === undefined ? {} : { tls: {} }),
      ...(token ? { token } : {}),
      ...(user ? { user } : {}),
      ...(pass ? { pass } : {}),
    });
  } catch (error) {
    if (remote !== undefined && /does not support 'tls'/.test(String((error as Error).message)))
      throw new TaskError(
        'credential_in_clear',
        `the NATS credentials would go to ${remote} in clear: the server offers no TLS`,
        {
          hint: 'serve NATS over TLS (credentials in plain text only to a loopback address)',
          cause: error,
        },
      );
    const auth = /authoriz|authentic/i.test(String((error as Error).message));
    throw new TaskError(
      auth ? 'nats_auth_failed' : 'nats_connect_failed',
      `cannot connect to ${servers.join(', ')}: ${(error as Error).message}`,
      {
        fault: auth ? 'user' : 'system',
        retryable: !auth,
        hint: auth
          ? 'pass NATS_USER and NATS_PASSWORD (or NATS_TOKEN) as secrets in env:'
          : 'check the servers and that the runner may reach them',
        cause: error,
      },
    );
  }
}

/** Checks one `servers` entry and returns its host. */
function checkServer(text: string, path: string): string {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `nats://${text}`);
  } catch {
    throw new TaskError('nats_server_invalid', `${path} is not a server address`, {
      hint: 'give nats://host:4222',
    });
  }
  if (url.username || url.password)
    throw new TaskError(
      'nats_server_invalid',
      `${path} holds credentials, which with: would store with the plan`,
      {
        hint: 'pass NATS_USER and NATS_PASSWORD (or NATS_TOKEN) as secrets in env:',
      },
    );
  return url.hostname;
}
