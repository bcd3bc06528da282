/**
 * Serves the console from the API server (the `api` role): its pages (`/`, `/runs/<id>`) are the
 * one index.html, and its assets a closed list of built files read into memory at start, so no
 * URL can name any other file (no static-file plugin needed for four files). Every answer
 * carries a strict Content-Security-Policy: scripts, styles and connections from this origin
 * only, no inline script or style, no framing, no plugins, so a log line that contained markup
 * could not run even if it were ever rendered as HTML (it is rendered as text).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { buildConsole, CONSOLE_DIST, CONSOLE_FILES, isConsoleBuilt } from './build.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<(typeof CONSOLE_FILES)[number], string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'keyless-verify.js': 'text/javascript; charset=utf-8',
};

export interface ConsoleOptions {
  logger: Logger;
  /** Where the built assets are (default console/dist). */
  dist?: string;
  /** Builds them (default buildConsole; tests inject a failing one). */
  build?: (dist: string) => Promise<void>;
}

/** The built files, building them first when they are missing or stale (and esbuild is there). */
async function loadAssets(
  dist: string,
  logger: Logger,
  build: (dist: string) => Promise<void>,
): Promise<Map<string, Buffer> | undefined> {
  if (!isConsoleBuilt(dist)) {
    try {
      await build(dist);
      logger.info({ dist }, 'console built');
    } catch (error) {
      logger.warn({ err: error, dist }, 'console not built: its pages answer 503');
      return undefined;
    }
  }
  return new Map(CONSOLE_FILES.map((f) => [f, readFileSync(join(dist, f))]));
}

export async function mountConsole(fastify: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const assets = await loadAssets(
    options.dist ?? CONSOLE_DIST,
    options.logger,
    options.build ?? buildConsole,
  );
  const send = (reply: FastifyReply, file: (typeof CONSOLE_FILES)[number]) => {
    void reply.headers(SECURITY_HEADERS);
    if (!assets)
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build:console` where the server runs.\n');
    return reply
      .code(200)
      .type(TYPES[file])
      .header('cache-control', file === 'index.html' ? 'no-store' : 'no-cache')
      .send(assets.get(file));
  };
  // The pages: one document; the app reads the path. Nothing here needs a token (no data).
  fastify.get('/', (_request, reply) => send(reply, 'index.html'));
  fastify.get('/runs/:id', (_request, reply) => send(reply, 'index.html'));
  fastify.get('/console/app.js', (_request, reply) => send(reply, 'app.js'));
  fastify.get('/console/app.css', (_request, reply) => send(reply, 'app.css'));
  fastify.get('/console/keyless-verify.js', (_request, reply) => send(reply, 'keyless-verify.js'));
}
