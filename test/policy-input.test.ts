// Manifest -> Plan (real compiler, built-in catalog) -> policy input -> decision (default bundle).
import { beforeAll, describe, expect, it } from 'vitest';
import { compileManifest } from '../compiler/index.ts';
import type { Plan, TaskCatalog } from '../core/index.ts';
import { createPdp, policyInputFor, readDefaultBundle, type Pdp } from '../policy/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';

let catalog: TaskCatalog;
let pdp: Pdp;

beforeAll(async () => {
  catalog = await loadBuiltinCatalog();
  pdp = await createPdp(await readDefaultBundle());
});

function plan(source: string): Plan {
  const result = compileManifest(source, { file: 'wf.yaml', catalog });
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics, null, 2));
  return result.plan;
}

const manifest = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: nightly, namespace: data, labels: { maestro.dev/sensitive: "true" } }
spec:
  policy: { purpose: disclosure, authority: legal:ombuds, license: internal }
  tasks:
    - id: fetch_ok
      uses: tasks/http@1
      with: { url: "https://api.github.com/repos/x/y" }
    - id: fetch_elsewhere
      uses: tasks/http@1
      with: { url: "https://evil.example/steal" }
    - id: fetch_secret
      uses: tasks/http@1
      with: { url: "\${secrets.SOURCE_URL}" }
    - id: hello
      run: echo hi
`;

describe('policyInputFor', () => {
  it('builds a schema-valid input from a compiled plan, with hosts from the catalog’s targetInputs', () => {
    const p = plan(manifest);
    const input = policyInputFor(p, 'fetch_ok', { actor: 'alice', catalog, approvalDigest: 'sha256:ap' });
    expect(input).toMatchObject({
      task: {
        id: 'fetch_ok',
        kind: 'catalog',
        targetHosts: ['api.github.com'],
        privileged: false,
        hostNetwork: false,
      },
      workflow: {
        name: 'nightly',
        namespace: 'data',
        kind: 'Workflow',
        labels: { 'maestro.dev/sensitive': 'true' },
      },
      planDigest: p.digest,
      policy: { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' },
      actor: 'alice',
      approvalDigest: 'sha256:ap',
    });
    expect(input.task.uses).toMatch(/^http@\d+\.\d+\.\d+$/);
    expect(policyInputFor(p, 'fetch_secret', { actor: 'a', catalog }).task.targetHosts).toEqual([]);
    expect(() => policyInputFor(p, 'nope', { actor: 'a' })).toThrow(/no task nope/);
  });

  it('feeds the default rules: allowed host passes, other host and unknown host are denied', () => {
    const p = plan(manifest);
    const decide = (id: string) => pdp.evaluate(policyInputFor(p, id, { actor: 'alice', catalog }));
    expect(decide('fetch_ok')).toMatchObject({ allow: true, reasons: [], unavailable: false });
    expect(decide('hello').allow).toBe(true);
    expect(decide('fetch_elsewhere').reasons).toEqual([
      'task fetch_elsewhere contacts host evil.example, which is not on the outbound allow-list',
    ]);
    expect(decide('fetch_secret').reasons[0]).toContain('target hosts are unknown');
  });

  it('with the resolved `with`, a secret URL gives its host only: never its userinfo, path or query', () => {
    const p = plan(manifest);
    const secretUrl = 'https://svc:pw-s3cr3t@Hooks.Example.com:8443/t0k3n/path?sig=q-s3cr3t#frag';
    const input = policyInputFor(p, 'fetch_secret', {
      actor: 'a',
      catalog,
      resolvedWith: { url: secretUrl },
    });
    expect(input.task.targetHosts).toEqual(['hooks.example.com']);
    const text = JSON.stringify(input);
    for (const part of ['pw-s3cr3t', 'svc', 't0k3n', 'q-s3cr3t', '8443', 'frag'])
      expect(text).not.toContain(part);
    expect(pdp.evaluate(input).reasons).toEqual([
      'task fetch_secret contacts host hooks.example.com, which is not on the outbound allow-list',
    ]);
  });

  it('a resolved value that is not a URL with a host is unknown: the default rules refuse it', () => {
    const p = plan(manifest);
    for (const url of ['not a url', 'file:///etc/passwd', '', 42, 'https://${params.host}/x']) {
      const input = policyInputFor(p, 'fetch_ok', { actor: 'a', catalog, resolvedWith: { url } });
      expect(input.task.targetHosts, String(url)).toEqual([]);
      expect(pdp.evaluate(input).reasons[0], String(url)).toContain('target hosts are unknown');
    }
  });

  it('a sensitive label without the policy context denies every task of the workflow', () => {
    const p = plan(
      manifest.replace('  policy: { purpose: disclosure, authority: legal:ombuds, license: internal }\n', ''),
    );
    const result = pdp.evaluate(policyInputFor(p, 'hello', { actor: 'alice', catalog }));
    expect(result.allow).toBe(false);
    expect(result.reasons).toHaveLength(3);
    expect(result.reasons[0]).toContain('label maestro.dev/sensitive=true is marked sensitive');
  });
});
