import { describe, expect, it } from 'vitest';
import { catalogCredentialFor, catalogTokenVariable } from './catalog-credentials.ts';

// No git credential helper can answer: HOME has no git config.
const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent' };

describe('catalog credentials from the environment', () => {
  it("names a host's variable as Terraform does (. as _, - as __)", () => {
    expect(catalogTokenVariable('Git-Lab.example.com')).toBe('MAESTRO_CATALOG_TOKEN_git__lab_example_com');
    expect(catalogTokenVariable('127.0.0.1', 'USER')).toBe('MAESTRO_CATALOG_USER_127_0_0_1');
  });

  it('offers a token to its own host only, over https or loopback http, never to a URL with userinfo', async () => {
    const env = { MAESTRO_CATALOG_TOKEN_git_example_com: 't0k', MAESTRO_CATALOG_TOKEN_127_0_0_1: 'l00p' };
    const lookup = { env, baseEnv };
    expect(await catalogCredentialFor('https://git.example.com/a/b.git', lookup)).toEqual({
      username: 'x-access-token',
      token: 't0k',
    });
    expect(await catalogCredentialFor('http://127.0.0.1:9/a.git', lookup)).toEqual({
      username: 'x-access-token',
      token: 'l00p',
    });
    expect(await catalogCredentialFor('http://git.example.com/a/b.git', lookup)).toBeUndefined();
    expect(await catalogCredentialFor('https://other.example.com/a/b.git', lookup)).toBeUndefined();
    expect(await catalogCredentialFor('https://u@git.example.com/a/b.git', lookup)).toBeUndefined();
    expect(await catalogCredentialFor('/srv/catalog.git', lookup)).toBeUndefined();
  });
});
