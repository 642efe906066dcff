import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazyBrandCheck } from '../../scripts/lazy-global-headers';
import { LAZY_HTTP2_REWRITES, lazyHttp2 } from '../../scripts/lazy-http2';

const require = createRequire(import.meta.url);
const fastifyServerPath = require.resolve('fastify/lib/server.js');
const undiciClientPath = require.resolve('undici/lib/dispatcher/client.js');
const undiciCookiesPath = require.resolve('undici/lib/web/cookies/index.js');

/**
 * In a fresh node: Fastify and undici with `sources` (path → text) compiled in place of those
 * files; says whether requiring both loaded node:http2, then serves HTTP/2 (cleartext) with
 * Fastify and sends one request to it with undici's H2CClient (client-h2.js), and one
 * HTTP/1.1 request with undici's Client to a plain Fastify.
 */
function runInChild(sources: Record<string, string>): { http2AtLoad: boolean; httpsAtLoad: boolean; h2: string; h1: string } {
  const script = `
    const Module = require('node:module');
    const sources = ${JSON.stringify(sources)};
    const compileJs = Module._extensions['.js'];
    Module._extensions['.js'] = function (module, filename) {
      if (sources[filename] !== undefined) return module._compile(sources[filename], filename);
      return compileJs(module, filename);
    };
    const load = (name) => require(require.resolve(name, { paths: [${JSON.stringify(process.cwd())}] }));
    const fastify = load('fastify');
    const { Client, H2CClient } = load('undici');
    const http2AtLoad = process.moduleLoadList.includes('NativeModule http2');
    const httpsAtLoad = process.moduleLoadList.includes('NativeModule https');
    (async () => {
      const h2Server = fastify({ http2: true });
      h2Server.get('/', async (request) => ({ version: request.raw.httpVersion }));
      await h2Server.listen({ host: '127.0.0.1', port: 0 });
      const h2Client = new H2CClient('http://127.0.0.1:' + h2Server.server.address().port);
      const h2 = await h2Client.request({ path: '/', method: 'GET' }).then((answer) => answer.body.text());
      await h2Client.close();
      await h2Server.close();
      const h1Server = fastify();
      h1Server.get('/', async (request) => ({ version: request.raw.httpVersion }));
      await h1Server.listen({ host: '127.0.0.1', port: 0 });
      const h1Client = new Client('http://127.0.0.1:' + h1Server.server.address().port);
      const h1 = await h1Client.request({ path: '/', method: 'GET' }).then((answer) => answer.body.text());
      await h1Client.close();
      await h1Server.close();
      process.stdout.write(JSON.stringify({ http2AtLoad, httpsAtLoad, h2, h1 }));
    })().catch((error) => { process.stderr.write(String(error && error.stack)); process.exit(1); });
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as ReturnType<typeof runInChild>;
}

describe("the build's lazy node:http2 (scripts/lazy-http2.ts)", () => {
  const fastifyServer = readFileSync(fastifyServerPath, 'utf8');
  const undiciClient = readFileSync(undiciClientPath, 'utf8');

  it('rewrites each eager line of the installed packages once, and refuses a source without it or one that uses the module whole', () => {
    const rewrittenServer = lazyHttp2(fastifyServerPath, fastifyServer);
    const rewrittenClient = lazyHttp2(undiciClientPath, undiciClient);
    for (const rewrite of LAZY_HTTP2_REWRITES) {
      const rewritten = rewrite.file.test(fastifyServerPath) ? rewrittenServer : rewrittenClient;
      expect(rewritten).not.toContain(rewrite.eager);
      expect(rewritten).toContain(rewrite.lazy);
    }
    expect(lazyHttp2('/elsewhere/index.js', fastifyServer)).toBe(fastifyServer);
    expect(() => lazyHttp2(fastifyServerPath, fastifyServer.replace("const http2 = require('node:http2')", "const http2 = require('http2')"))).toThrow(/no longer has "const http2/);
    expect(() => lazyHttp2(undiciClientPath, `${undiciClient}\nconst connectH2 = require('./client-h2.js')`)).toThrow(/no longer has/);
    expect(() => lazyHttp2(fastifyServerPath, `${fastifyServer}\nmodule.exports.http2 = http2\n`)).toThrow(/uses "http2" other than as http2\.member: module\.exports\.http2 = http2/);
  });

  it('no longer loads node:http2 or node:https with Fastify and undici, and still serves and sends HTTP/2 on use', () => {
    const before = runInChild({});
    // As built: undici's cookies module no longer loads Node's own undici (which has HTTP/2) either (scripts/lazy-global-headers.ts).
    const cookies = lazyBrandCheck(readFileSync(undiciCookiesPath, 'utf8'));
    const after = runInChild({ [fastifyServerPath]: lazyHttp2(fastifyServerPath, fastifyServer), [undiciClientPath]: lazyHttp2(undiciClientPath, undiciClient), [undiciCookiesPath]: cookies });
    // The saving: the originals load both when the packages load.
    expect(before).toMatchObject({ http2AtLoad: true, httpsAtLoad: true });
    expect(after).toMatchObject({ http2AtLoad: false, httpsAtLoad: false });
    // Same behaviour: an HTTP/2 server answers undici's HTTP/2 client; HTTP/1.1 as before.
    for (const result of [before, after]) {
      expect(JSON.parse(result.h2)).toEqual({ version: '2.0' });
      expect(JSON.parse(result.h1)).toEqual({ version: '1.1' });
    }
  });
});
