// The kafkajs client of one kafka task. Credentials are the secrets KAFKA_USERNAME and
// KAFKA_PASSWORD passed in env: (never with:, which is stored with the plan; `brokers` is
// host:port only, by its schema), and no message quotes them: errors name the brokers only.
// SASL without TLS goes only to loopback brokers: refused by validation for the bootstrap
// brokers, and for every broker the cluster's metadata names (a bootstrap broker on loopback,
// a proxy, may advertise another host) by the socket factory, before a byte is sent. With TLS
// the CA is the system's, or caFile/caSecret (tasks/tls/read-ca.ts).
// kafkajs's own logger is off: the task reports through ctx.emit.
import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { isLoopbackHost } from '../../core/index.ts';
import { TaskError, type TaskContext, type ValidationIssue } from '../../sdk/index.ts';
import { checkCaInputs, readCa, type CaInputs } from '../tls/read-ca.ts';

export interface ClientInputs extends CaInputs {
  brokers: readonly string[];
  tls?: boolean;
  sasl?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  timeoutMs?: number;
}

export interface KafkaClient {
  kafka: Kafka;
  /** A broker the socket factory refused: SASL without TLS to a host beyond loopback. */
  refusedHost(): string | undefined;
}

const PLAINTEXT_SASL =
  'without tls, SASL would send the credentials to {host} in clear: set tls: true (SASL without TLS only to a loopback broker)';

/** The inputs' rules about transport security, for validate. */
export function checkClientInputs(inputs: ClientInputs): ValidationIssue[] {
  const errors = checkCaInputs(inputs, inputs.tls === true, 'set tls: true');
  if (inputs.sasl && inputs.tls !== true) {
    const remote = inputs.brokers.find((b) => !isLoopbackHost(b));
    if (remote) errors.push({ path: '/sasl', message: PLAINTEXT_SASL.replace('{host}', hostOf(remote)) });
  }
  return errors;
}

export function kafkaClient(
  inputs: ClientInputs,
  ctx: Pick<TaskContext, 'secret' | 'workspace'>,
): KafkaClient {
  const timeout = inputs.timeoutMs ?? 10_000;
  const ca = inputs.tls === true ? readCa(inputs, ctx) : undefined;
  let refused: string | undefined;
  const config: KafkaConfig = {
    clientId: 'maestro-task-kafka',
    brokers: [...inputs.brokers],
    ssl: inputs.tls === true ? (ca ? { ca: [ca] } : true) : false,
    connectionTimeout: timeout,
    authenticationTimeout: timeout,
    requestTimeout: timeout,
    // A task is short-lived: a few quick retries, then the task's own retry policy decides.
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3000 },
    logLevel: logLevel.NOTHING,
  };
  if (inputs.sasl) {
    config.sasl = {
      mechanism: inputs.sasl,
      username: ctx.secret('KAFKA_USERNAME'),
      password: ctx.secret('KAFKA_PASSWORD'),
    } as SASLOptions;
    if (inputs.tls !== true)
      config.socketFactory = loopbackOnly((host) => {
        refused ??= host;
      });
  }
  return { kafka: new Kafka(config), refusedHost: () => refused };
}

/** kafkajs's own socket factory, refusing (before connecting) any host beyond loopback. */
function loopbackOnly(onRefused: (host: string) => void): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    if (!isLoopbackHost(host)) {
      onRefused(host);
      throw new Error(`refused: ${host} is not a loopback address`);
    }
    const socket = ssl
      ? connectTls({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : connectTcp({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

function hostOf(broker: string): string {
  return broker.slice(0, broker.lastIndexOf(':'));
}

/** A kafkajs error as the task's: refused credentials are the user's, the rest retryable. */
export function kafkaError(
  error: unknown,
  client: KafkaClient | undefined,
  brokers: readonly string[],
  doing: string,
): unknown {
  if (error instanceof TaskError || (error as Error)?.name === 'AbortError') return error;
  const refused = client?.refusedHost();
  if (refused)
    return new TaskError(
      'kafka_insecure',
      `the cluster named ${refused} as a broker while ${doing}: ${PLAINTEXT_SASL.replace('{host}', refused)}`,
      {
        hint: 'set tls: true (with caFile or caSecret for a private CA), or advertise loopback listeners only',
      },
    );
  const e = error as { name?: string; message?: string; type?: string; retriable?: boolean };
  const where = brokers.join(', ');
  if (e.name === 'KafkaJSSASLAuthenticationError' || /SASL|authentication/i.test(e.message ?? ''))
    return new TaskError('kafka_auth_failed', `${where} refused the credentials while ${doing}`, {
      hint: 'pass KAFKA_USERNAME and KAFKA_PASSWORD as secrets in env:, and the broker’s sasl mechanism',
      cause: error,
    });
  if (e.type === 'TOPIC_AUTHORIZATION_FAILED' || e.type === 'GROUP_AUTHORIZATION_FAILED')
    return new TaskError('kafka_not_authorized', `${where}: ${e.type} while ${doing}`, {
      hint: 'grant the user the ACLs for this topic and group',
      cause: error,
    });
  return new TaskError('kafka_failed', `${doing} on ${where} failed: ${e.message ?? String(error)}`, {
    fault: 'system',
    retryable: true,
    hint: 'check brokers, tls (and its CA) and that the runner may reach them',
    cause: error,
  });
}
