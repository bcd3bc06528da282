import { createServer } from 'node:net';

/**
 * A port of 127.0.0.1 that was free a moment ago, for a server that must be told its port (it
 * cannot listen on port 0 and report it: pypiserver, PostgreSQL, the Kubernetes control plane).
 * Another process could take it in between; the caller's start then fails loudly.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}
