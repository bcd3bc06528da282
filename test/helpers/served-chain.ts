/** For tests whose tasks call the Kubernetes test control plane with curl (`--cacert`). */
import { connect } from 'node:tls';

/** The certificates the API server presents (its chain, to its self-signed root): what curl trusts. */
export function servedChain(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const pems: string[] = [];
      let cert = socket.getPeerCertificate(true);
      for (;;) {
        const b64 = cert.raw
          .toString('base64')
          .replace(/(.{64})/g, '$1\n')
          .trimEnd();
        pems.push(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----`);
        if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
        cert = cert.issuerCertificate;
      }
      resolve(pems.join('\n'));
      socket.end();
    });
    socket.on('error', reject);
  });
}
