import { describe, expect, it } from 'vitest';
import { parseImageReference } from './image-reference.ts';
import { createRegistryClient } from './registry-client.ts';

/**
 * A registry that hands out bearer tokens per scope, as Docker Hub, ghcr.io and Harbor do: a read
 * asks for `pull`, an upload for `pull,push`, and a token is good only for the scope it was issued for.
 */
function tokenRegistry() {
  const issued: string[] = [];
  const fake: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname === '/token') {
      const scope = url.searchParams.get('scope')!;
      issued.push(scope);
      return Response.json({ token: `tok ${scope}` });
    }
    const method = init?.method ?? 'GET';
    const needs = method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push';
    const scope = `repository:team/app:${needs}`;
    const auth = new Headers(init?.headers).get('authorization');
    if (
      auth !== `Bearer tok ${scope}` &&
      !(needs === 'pull' && auth === 'Bearer tok repository:team/app:pull,push')
    )
      return new Response(null, {
        status: 401,
        headers: {
          'www-authenticate': `Bearer realm="https://reg.example/token",service="reg",scope="${scope}"`,
        },
      });
    if (method === 'HEAD') return new Response(null, { status: 404 });
    if (method === 'POST')
      return new Response(null, { status: 202, headers: { location: '/v2/team/app/blobs/uploads/1' } });
    return new Response(null, { status: 201 });
  };
  return { fake, issued };
}

describe('the registry client with a token registry', () => {
  it('asks for a push token when the pull token it holds is refused for an upload', async () => {
    const { fake, issued } = tokenRegistry();
    const client = createRegistryClient({ fetch: fake });
    const ref = parseImageReference('reg.example/team/app:1');
    const pushed = await client.pushBlob(ref, Buffer.from('sbom'));
    expect(pushed.size).toBe(4);
    expect(issued).toEqual(['repository:team/app:pull', 'repository:team/app:pull,push']);
  });

  it('still refuses, naming the registry, when the new token is refused too', async () => {
    const refusing: typeof fetch = async (input) =>
      String(input).includes('/token')
        ? Response.json({ token: 'useless' })
        : new Response(null, {
            status: 401,
            headers: {
              'www-authenticate': 'Bearer realm="https://reg.example/token",scope="repository:team/app:pull"',
            },
          });
    const client = createRegistryClient({ fetch: refusing });
    await expect(
      client.pushBlob(parseImageReference('reg.example/team/app:1'), Buffer.from('x')),
    ).rejects.toThrow(/registry reg\.example answered 401/);
  });
});
