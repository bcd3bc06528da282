// A small catalog for the compiler's own tests (compiler/ cannot import tasks/).
import { catalogFromEntries } from '../core/index.ts';
import type { CatalogEntry } from '../core/index.ts';

const entry = (
  name: string,
  version: string,
  inputs: Record<string, unknown>,
  outputs: string[],
): CatalogEntry => ({
  name,
  version,
  description: `${name} ${version}`,
  digest: `sha256:${version.replace(/\D/g, '').padEnd(64, '0')}`,
  inputs,
  outputs,
  entry: `/catalog/${name}/index.ts`,
});

export const testCatalog = catalogFromEntries([
  entry('http', '1.0.0', { type: 'object', required: ['url'], properties: { url: { type: 'string' } } }, [
    'status',
  ]),
  entry('http', '1.2.0', { type: 'object', required: ['url'], properties: { url: { type: 'string' } } }, [
    'status',
  ]),
  entry('http', '1.2.7', { type: 'object', required: ['url'], properties: { url: { type: 'string' } } }, [
    'status',
  ]),
  entry('http', '2.0.0', { type: 'object', required: ['href'], properties: { href: { type: 'string' } } }, [
    'status',
  ]),
  entry('echo', '1.0.0', { type: 'object', properties: { message: { type: 'string' } } }, ['message']),
  // Backtracks exponentially in V8; RE2 matches it in linear time, so it is allowed.
  entry('nested', '1.0.0', { type: 'object', properties: { x: { type: 'string', pattern: '^(a+)+$' } } }, []),
  // Lookahead has no linear-time meaning: the schema is refused (MS4006).
  entry('evil', '1.0.0', { type: 'object', properties: { x: { type: 'string', pattern: '^(?=a)a+$' } } }, []),
]);
