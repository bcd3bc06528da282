// The kafkajs client of one kafka task. Credentials are the secrets KAFKA_USERNAME and
// KAFKA_PASSWORD passed in env: (never with:, which is stored with the plan; `brokers` is
// host:port only, by its schema), and no message quotes them: errors name the brokers only.
// kafkajs's own logger is off: the task reports through ctx.emit.
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { TaskError, type TaskContext } from '../../sdk/index.ts';

export interface ClientInputs {
  brokers: readonly string[];
  tls?: boolean;
  sasl?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  timeoutMs?: number;
}

export function kafkaClient(inputs: ClientInputs, ctx: Pick<TaskContext, 'secret'>): Kafka {
  const timeout = inputs.timeoutMs ?? 10_000;
  const config: KafkaConfig = {
    clientId: 'maestro-task-kafka',
    brokers: [...inputs.brokers],
    ssl: inputs.tls === true,
    connectionTimeout: timeout,
    authenticationTimeout: timeout,
    requestTimeout: timeout,
    // A task is short-lived: a few quick retries, then the task's own retry policy decides.
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3000 },
    logLevel: logLevel.NOTHING,
  };
  if (inputs.sasl)
    config.sasl = {
      mechanism: inputs.sasl,
      username: ctx.secret('KAFKA_USERNAME'),
      password: ctx.secret('KAFKA_PASSWORD'),
    } as SASLOptions;
  return new Kafka(config);
}

/** A kafkajs error as the task's: refused credentials are the user's, the rest retryable. */
export function kafkaError(error: unknown, brokers: readonly string[], doing: string): unknown {
  if (error instanceof TaskError || (error as Error)?.name === 'AbortError') return error;
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
    hint: 'check brokers, tls and that the runner may reach them',
    cause: error,
  });
}
