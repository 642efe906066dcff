/**
 * Serves the built renderer (`out/renderer`) at `/ui/` for headless use and browser tests.
 * Files are public (the token lives in the URL fragment and guards only the admin API);
 * paths are resolved inside the folder only, hashed assets are cached for good, and the
 * pages carry the same strict Content-Security-Policy as the desktop window.
 */
// node:fs's callback functions, not node:fs/promises: importing that module at start-up loads a dozen
// more of Node's built-in modules (readline, watchers, …), compiled from source under the bin's heap flags.
import { readFile as readFileCallback, stat as statCallback } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { UI_NOT_BUILT_MESSAGE } from './renderer-location.js';

const stat = promisify(statCallback);
const readFile = promisify(readFileCallback);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

export function registerStaticFiles(app: FastifyInstance, rendererDirectory: string | null): void {
  const root = rendererDirectory ? resolve(rendererDirectory) : null;

  app.get('/ui', { config: { public: true } }, async (_request, reply) => reply.redirect('/ui/', 302));

  app.get('/ui/*', { config: { public: true } }, async (request, reply) => {
    if (!root) {
      return securityHeaders(reply)
        .code(404)
        .header('content-type', 'text/plain; charset=utf-8')
        .send(`Switchyard: ${UI_NOT_BUILT_MESSAGE}\n`);
    }
    const wildcard = (request.params as { '*': string })['*'] || 'index.html';
    const path = resolve(join(root, wildcard));
    if (path !== root && !path.startsWith(root + sep)) return reply.code(404).send();
    let file = path;
    try {
      const info = await stat(file);
      if (info.isDirectory()) file = join(file, 'index.html');
    } catch {
      // Unknown paths inside the app fall back to the page (client-side navigation).
      if (extname(wildcard) !== '') return securityHeaders(reply).code(404).header('content-type', 'text/plain').send('not found');
      file = join(root, 'index.html');
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return securityHeaders(reply).code(404).header('content-type', 'text/plain').send('not found');
    }
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    const immutable = file.includes(`${sep}assets${sep}`);
    return securityHeaders(reply)
      .header('content-type', type)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(body);
  });
}
