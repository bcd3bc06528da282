import { describe, expect, it } from 'vitest';
import { gitOriginOf, SourceAccess } from './source-access.ts';

const minted: number[] = [];
const access = (api: string) => {
  const sources = new SourceAccess(api);
  sources.useMinter(async (installationId) => {
    minted.push(installationId);
    return `token-of-${installationId}`;
  });
  return sources;
};

describe('SourceAccess: which installation token fetches which clone URL', () => {
  it("answers for a clone URL a run of the installation named, on the App's GitHub", async () => {
    const sources = access('https://api.github.com');
    sources.allow('https://github.com/acme/app.git', 42);
    // A fork's pull request: the base installation's token reads the (public) fork.
    sources.allow('https://github.com/mallory/app.git', 42);
    expect(await sources.tokenFor('https://github.com/acme/app.git')).toBe('token-of-42');
    expect(await sources.tokenFor('https://github.com/mallory/app.git')).toBe('token-of-42');
  });

  it('never gives a token for a URL no run named, or on another host than GitHub', async () => {
    minted.length = 0;
    const sources = access('https://api.github.com');
    expect(await sources.tokenFor('https://github.com/other/repo.git')).toBeUndefined();
    // A clone URL on another host (a payload that names one) is not even remembered.
    sources.allow('https://evil.example/acme/app.git', 42);
    sources.allow('http://github.com/acme/app.git', 42);
    expect(await sources.tokenFor('https://evil.example/acme/app.git')).toBeUndefined();
    expect(await sources.tokenFor('http://github.com/acme/app.git')).toBeUndefined();
    expect(minted).toEqual([]);
  });

  it('has no token before the App has its installation clients', async () => {
    const sources = new SourceAccess('http://127.0.0.1:9');
    sources.allow('http://127.0.0.1:9/acme/app.git', 1);
    expect(await sources.tokenFor('http://127.0.0.1:9/acme/app.git')).toBeUndefined();
  });

  it("maps the API's base URL to where git is served", () => {
    expect(gitOriginOf('https://api.github.com')).toBe('https://github.com');
    expect(gitOriginOf('https://ghe.example.com/api/v3')).toBe('https://ghe.example.com');
    expect(gitOriginOf('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
  });
});
