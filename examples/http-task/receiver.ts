// A deployment API to run the http-task sample against, on 127.0.0.1:8787 (`node receiver.ts`;
// PORT=… for another port). It behaves as real APIs do at their worst:
// - POST /deployments records the deployment under its Idempotency-Key, then answers the first
//   request with that key 503 with Retry-After: 1 (as if the answer were lost after the work was
//   done). A request again with the same key gets the same deployment (201), never a second one;
//   a POST without a key is refused (400).
// - GET /deployments/latest answers 429 (Retry-After: 1) once per deployment while it rolls out,
//   then 200 with its state `live`.
// Each request is logged, with its key, so the retry with the same key can be seen.
import { createServer, type Server } from 'node:http';

export interface Seen {
  method: string;
  path: string;
  key: string | undefined;
  status: number;
}

export function createReceiver(): { server: Server; seen: Seen[]; created: () => number } {
  const seen: Seen[] = [];
  const byKey = new Map<string, { id: string; answered: boolean; polled: boolean }>();
  let latest: { id: string; answered: boolean; polled: boolean } | undefined;
  const server = createServer((req, res) => {
    req.resume();
    const key = req.headers['idempotency-key'] as string | undefined;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', key, status });
      console.log(`${req.method} ${req.url} idempotency-key=${key ?? '(none)'} -> ${status}`);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url === '/deployments') {
      if (key === undefined) return answer(400, { error: 'an Idempotency-Key is required' });
      let deployment = byKey.get(key);
      if (deployment === undefined)
        byKey.set(key, (deployment = { id: `d-${byKey.size + 1}`, answered: false, polled: false }));
      latest = deployment;
      if (!deployment.answered) {
        deployment.answered = true;
        return answer(503, { error: 'busy' }, { 'retry-after': '1' });
      }
      return answer(201, { id: deployment.id, state: 'queued' });
    }
    if (req.method === 'GET' && req.url === '/deployments/latest') {
      if (latest === undefined) return answer(404, { error: 'no deployment' });
      if (!latest.polled) {
        latest.polled = true;
        return answer(429, { id: latest.id, state: 'rolling-out' }, { 'retry-after': '1' });
      }
      return answer(200, { id: latest.id, state: 'live' });
    }
    answer(404, { error: 'not found' });
  });
  return { server, seen, created: () => byKey.size };
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 8787);
  createReceiver().server.listen(port, '127.0.0.1', () =>
    console.log(`receiver on http://127.0.0.1:${port}`),
  );
}
