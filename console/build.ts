/**
 * Builds the console's static assets into console/dist/: the Preact app bundled by esbuild into
 * one minified `app.js` (Preact included: nothing is fetched from another origin at run time),
 * plus `index.html` and `app.css` copied as they are, and `keyless-verify.js`: @sigstore/verify for
 * keyless receipts, a bundle of its own that the run page loads only when a receipt has a certificate. `npm ci` runs it (the `prepare` script), and
 * the server runs it at start when the assets are missing or older than their sources, so the
 * README's two commands work on a fresh clone and a developer never sees a stale console.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CONSOLE_SOURCE = join(import.meta.dirname, 'app');
export const CONSOLE_DIST = join(import.meta.dirname, 'dist');
/** The files the server serves, by URL path: a closed list, so no request names another file. */
export const CONSOLE_FILES = ['index.html', 'app.js', 'app.css', 'keyless-verify.js'] as const;

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

/** True when every built file is there and newer than every source file. */
export function isConsoleBuilt(dist = CONSOLE_DIST): boolean {
  const files = CONSOLE_FILES.map((f) => join(dist, f));
  if (!files.every((f) => existsSync(f))) return false;
  if (!existsSync(CONSOLE_SOURCE)) return true; // an installed package ships only the build
  const built = Math.min(...files.map((f) => statSync(f).mtimeMs));
  // This file counts as a source: a change to how the bundles are made rebuilds them.
  return built >= Math.max(newestSource(CONSOLE_SOURCE), statSync(import.meta.filename).mtimeMs);
}

export async function buildConsole(dist = CONSOLE_DIST): Promise<void> {
  // Loaded here: esbuild is a development dependency, needed only to build.
  const esbuild = await import('esbuild');
  mkdirSync(dist, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  } as const;
  await esbuild.build({
    ...common,
    entryPoints: [join(CONSOLE_SOURCE, 'main.tsx')],
    outfile: join(dist, 'app.js'),
    jsx: 'automatic',
    jsxImportSource: 'preact',
  });
  // sigstore-js is written for Node: its `crypto` and `util` are answered by the browser shims
  // (keyless/crypto-oracle.ts on WebCrypto), and its Buffer by the `buffer` package.
  const keyless = join(CONSOLE_SOURCE, 'keyless');
  await esbuild.build({
    ...common,
    entryPoints: [join(keyless, 'verify-keyless.ts')],
    outfile: join(dist, 'keyless-verify.js'),
    platform: 'browser',
    alias: { crypto: join(keyless, 'crypto-oracle.ts'), util: join(keyless, 'util-shim.ts') },
    inject: [join(keyless, 'buffer-global.ts')],
    // protobuf-specs reads globalThis.Buffer: the same injected Buffer, no global set on the page.
    define: { 'globalThis.Buffer': 'Buffer' },
  });
  cpSync(join(CONSOLE_SOURCE, 'index.html'), join(dist, 'index.html'));
  cpSync(join(CONSOLE_SOURCE, 'app.css'), join(dist, 'app.css'));
}

// `node console/build.ts [out-dir]`: npm's prepare, `npm run build:console`, and the package build.
if (import.meta.main) await buildConsole(process.argv[2] ?? CONSOLE_DIST);
