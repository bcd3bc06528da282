/**
 * Starts a real, private Apache Kafka broker for one test file: the jars scripts/setup/kafka.sh
 * fetched from Maven Central (~/.cache/maestro/kafka-<version>/libs), run on the machine's Java
 * in KRaft mode (one process as broker and controller), on free ports of 127.0.0.1, its log in
 * a temporary directory. Two listeners: PLAINTEXT, and SASL_PLAINTEXT with a user (PLAIN) whose
 * password is random, so a client without it is refused. `stop()` ends it and removes the
 * directory. Fails loudly (never skips) when the jars or Java are missing. Kept fast: the JVM's
 * C1 compiler only and a small heap (a test broker's start is mostly class loading).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';

const VERSION = '4.1.1';
const LIBS = join(
  process.env.MAESTRO_CACHE ?? join(homedir(), '.cache', 'maestro'),
  `kafka-${VERSION}`,
  'libs',
);
const SETUP_HINT =
  'run `bash scripts/setup/kafka.sh` (fetches the broker from Maven Central; needs java 17 and mvn)';
const JVM = ['-Xms256m', '-Xmx512m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'];

export interface KafkaBroker {
  /** 127.0.0.1:<port>, PLAINTEXT */
  broker: string;
  /** 127.0.0.1:<port>, SASL_PLAINTEXT (mechanism PLAIN) */
  saslBroker: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function startKafka(): Promise<KafkaBroker> {
  if (!existsSync(LIBS)) throw new Error(`the Kafka broker's jars are not at ${LIBS}: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'maestro-kafka-'));
  const [port, saslPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const user = 'maestro';
  const password = randomBytes(18).toString('base64url');
  const properties = join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms=PLAIN',
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${user}="${password}";`,
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const classpath = `${LIBS}/*`;
  const format = spawnSync(
    'java',
    [...JVM, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties],
    { encoding: 'utf8' },
  );
  if (format.error || format.status !== 0)
    throw new Error(
      `formatting the Kafka log failed: ${format.error?.message ?? format.stderr}; ${SETUP_HINT}`,
    );
  const child = spawn('java', [...JVM, '-cp', classpath, 'kafka.Kafka', properties], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilListening(port, child, () => stderr);
    await untilListening(saslPort, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { broker: `127.0.0.1:${port}`, saslBroker: `127.0.0.1:${saslPort}`, user, password, stop };
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (as kafka-storage random-uuid). */
function clusterId(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}

async function untilListening(
  port: number,
  child: ReturnType<typeof spawn>,
  log: () => string,
): Promise<void> {
  // The broker opens its client listeners once it has caught up with the metadata log: ready.
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the Kafka broker exited (${child.exitCode}): ${log()}`);
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the Kafka broker did not listen on ${port} within two minutes: ${log()}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
