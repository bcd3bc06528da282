// The peer: a minimal plain probot app that writes one check run per push delivery, served by
// probot's own Node middleware (its signature check, its Octokit). Throttling is off, as in the
// Maestro app, so both are measured on the same terms (with probot's default write throttle of
// one write per second, 100 deliveries/s could never be kept up with).
import { createServer } from 'node:http';
import { Probot, ProbotOctokit, createNodeMiddleware } from 'probot';
import pino from 'pino';

const probot = new Probot({
  appId: process.env.APP_ID!,
  privateKey: process.env.PRIVATE_KEY!,
  secret: process.env.WEBHOOK_SECRET!,
  baseUrl: process.env.BASE_URL!,
  Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({
    ...o,
    throttle: { ...(o.throttle as object), enabled: false },
  })),
  log: pino({ level: 'silent' }),
});
const middleware = await createNodeMiddleware(
  (app) => {
    app.on('push', async (context) => {
      await context.octokit.rest.checks.create({
        owner: context.payload.repository.owner!.login,
        repo: context.payload.repository.name,
        name: 'peer',
        head_sha: context.payload.after,
        status: 'completed',
        conclusion: 'success',
        output: { title: 'peer', summary: 'one write per delivery' },
      });
    });
  },
  { probot },
);
const server = createServer((req, res) => {
  void middleware(req, res, () => {
    res.writeHead(404);
    res.end();
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('maestro app listening\n'));
process.on('SIGTERM', () => process.exit(0));
