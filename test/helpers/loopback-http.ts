/**
 * A test file's own node:http server on 127.0.0.1: listening before the file's tests (its base URL
 * handed to `onUrl`), every connection dropped and the server closed after them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export function useLoopbackServer(server: Server, onUrl: (base: string) => void): void {
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}
