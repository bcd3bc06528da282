/**
 * A throw-away certificate authority for tests of TLS clients: a self-signed CA and a server
 * certificate it signs for 127.0.0.1 and localhost (EC P-256, made by the machine's openssl,
 * valid two days), plus a second, unrelated CA a client must not trust. PEM text and the files
 * (the key is PKCS#8, unencrypted, as Kafka's PEM keystore and grpc-js both read it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caPem: string;
  /** Another CA's certificate: a server certificate does not verify against it. */
  otherCaPem: string;
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
  remove(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function selfSigned(cwd: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ],
    cwd,
  );
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-test-ca-'));
  selfSigned(dir, 'ca');
  selfSigned(dir, 'other-ca');
  openssl(
    ['req', '-new', ...EC, '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'],
    dir,
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
    ].concat(['-extfile', 'server.ext', '-out', 'server.crt']),
    dir,
  );
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caPem: read('ca.crt'),
    otherCaPem: read('other-ca.crt'),
    certPem: read('server.crt'),
    keyPem: read('server.key'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
