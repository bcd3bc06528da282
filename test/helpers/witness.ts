/**
 * A witness for what tasks did, kept out of the sandbox's reach: an HTTP server on 127.0.0.1 that
 * the test runs and tasks report to with curl (DESIGN.md: tests never let a task write a host file
 * as evidence, since the sandbox rightly forbids it). Every request is recorded with its body.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WitnessReport {
  path: string;
  body: string;
}

export interface Witness {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** A shell snippet that posts its stdin to `<url>/<path>` and prints the path's report count. */
  report(path: string): string;
  reports(path?: string): WitnessReport[];
  /** Resolves when a report to `path` has arrived (or rejects after `ms`). */
  waitFor(path: string, ms?: number): Promise<WitnessReport>;
  close(): Promise<void>;
}

export async function startWitness(): Promise<Witness> {
  const seen: WitnessReport[] = [];
  const waiters: Array<{ path: string; resolve: (r: WitnessReport) => void }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const report = { path: (req.url ?? '/').slice(1), body: Buffer.concat(chunks).toString('utf8') };
      seen.push(report);
      for (const w of waiters.filter((x) => x.path === report.path)) w.resolve(report);
      // The reply is how many reports this path has had, this one included: a task that must
      // behave differently on its n-th attempt asks the witness instead of keeping a host file.
      res.end(String(seen.filter((r) => r.path === report.path).length));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    report: (path) => `curl -fsS --max-time 10 --data-binary @- ${url}/${path}`,
    reports: (path) => (path === undefined ? [...seen] : seen.filter((r) => r.path === path)),
    waitFor(path, ms = 20_000) {
      const already = seen.find((r) => r.path === path);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no report to /${path} within ${ms} ms`)), ms);
        waiters.push({ path, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
