/**
 * Starts a real, private Apache Kafka broker for one test file: the jars scripts/setup/kafka.sh
 * fetched from Maven Central (~/.cache/maestro/kafka-<version>/libs), run on the machine's Java
 * in KRaft mode (one process as broker and controller), on free ports of 127.0.0.1, its log in
 * a temporary directory. Three listeners: PLAINTEXT; SASL_PLAINTEXT with a user (PLAIN) whose
 * password is random, so a client without it is refused; and SASL_SSL, TLS with a certificate
 * of a throw-away CA (test/helpers/test-ca.ts, a PEM keystore) and the same user by PLAIN,
 * SCRAM-SHA-256 and SCRAM-SHA-512 (the SCRAM credentials stored when the log is formatted).
 * Where the machine has a non-loopback IPv4 address, a fourth: SASL_PLAINTEXT on all addresses,
 * advertised at that address, so a client bootstrapping on loopback is sent beyond it.
 * `stop()` ends it and removes the directory. Fails loudly (never skips) when the jars or Java are missing. Kept fast: the JVM's
 * C1 compiler only and a small heap (a test broker's start is mostly class loading).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { homedir, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';
import { makeTestCa } from '../helpers/test-ca.ts';

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
  /** 127.0.0.1:<port>, SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), its certificate by `caPem` */
  tlsBroker: string;
  /** The CA of the TLS listener's certificate (PEM), and an unrelated one. */
  caPem: string;
  otherCaPem: string;
  /**
   * Where the machine has a non-loopback address: 127.0.0.1:<port> of a SASL_PLAINTEXT listener
   * bound to every address whose metadata names the broker at `lanAddress`:<port>.
   */
  lanBootstrap?: string;
  lanAddress?: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function startKafka(): Promise<KafkaBroker> {
  if (!existsSync(LIBS)) throw new Error(`the Kafka broker's jars are not at ${LIBS}: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'maestro-kafka-'));
  const [port, saslPort, tlsPort, controllerPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const user = 'maestro';
  const password = randomBytes(18).toString('base64url');
  const lanAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  const lanPort = lanAddress ? await freePort() : 0;
  const lan = lanAddress
    ? {
        listener: `,LAN://0.0.0.0:${lanPort}`,
        advertised: `,LAN://${lanAddress}:${lanPort}`,
        protocol: ',LAN:SASL_PLAINTEXT',
        config: [
          'listener.name.lan.sasl.enabled.mechanisms=PLAIN',
          `listener.name.lan.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${user}="${password}";`,
        ],
      }
    : { listener: '', advertised: '', protocol: '', config: [] };
  const ca = makeTestCa();
  // Kafka's PEM keystore: the private key (PKCS#8) and the certificate in one file.
  const keystore = join(dir, 'keystore.pem');
  writeFileSync(keystore, `${ca.keyPem}${ca.certPem}`, { mode: 0o600 });
  ca.remove();
  const scram = (mechanism: string) =>
    `listener.name.sasl_ssl.${mechanism}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`;
  const properties = join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${tlsPort},CONTROLLER://127.0.0.1:${controllerPort}${lan.listener}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${tlsPort}${lan.advertised}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT${lan.protocol}`,
      ...lan.config,
      'sasl.enabled.mechanisms=PLAIN',
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${user}="${password}";`,
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${user}="${password}";`,
      scram('scram-sha-256'),
      scram('scram-sha-512'),
      'listener.name.sasl_ssl.ssl.keystore.type=PEM',
      `listener.name.sasl_ssl.ssl.keystore.location=${keystore}`,
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
    [
      ...JVM,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      properties,
      // SCRAM credentials live in the cluster's metadata: stored as the log is formatted.
      ...['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
        '--add-scram',
        `${m}=[name=${user},password=${password}]`,
      ]),
    ],
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
    await untilListening(tlsPort, child, () => stderr);
    if (lanAddress) await untilListening(lanPort, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    broker: `127.0.0.1:${port}`,
    saslBroker: `127.0.0.1:${saslPort}`,
    tlsBroker: `127.0.0.1:${tlsPort}`,
    caPem: ca.caPem,
    otherCaPem: ca.otherCaPem,
    ...(lanAddress ? { lanBootstrap: `127.0.0.1:${lanPort}`, lanAddress } : {}),
    user,
    password,
    stop,
  };
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
