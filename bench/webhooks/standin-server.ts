// The GitHub stand-in in its own process, so its work does not share the app's event loop.
// Prints one JSON line {url, control} when ready; GET <control>/records returns what it saw.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitHubStandIn } from '../../test/github-standin/index.ts';

const [appId, publicKeyPath, bareDir, owner, name, shasPath] = process.argv.slice(2);
const standin = new GitHubStandIn({ appId: appId!, publicKeyPem: readFileSync(publicKeyPath!, 'utf8') });
const url = await standin.start();
standin.addRepo({ owner: owner!, name: name!, id: 1, bareDir: bareDir!, defaultBranch: 'main' });
standin.preloadTrees(`${owner}/${name}`, readFileSync(shasPath!, 'utf8').split('\n').filter(Boolean));
const control = createServer((req, res) => {
  const body = JSON.stringify({
    violations: standin.violations,
    requests: standin.requests.length,
    writes: standin.writes().length,
    checkRuns: standin.checkRuns.map((r) => ({
      name: r.name,
      head_sha: r.head_sha,
      createdAt: r.createdAt,
      writes: r.writes,
      conclusion: r.conclusion,
      external_id: r.external_id,
    })),
  });
  if (req.url === '/reset') {
    standin.requests.length = 0;
    standin.checkRuns.length = 0;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
process.stdout.write(
  `${JSON.stringify({ url, control: `http://127.0.0.1:${(control.address() as AddressInfo).port}` })}\n`,
);
process.on('SIGTERM', () => process.exit(0));
