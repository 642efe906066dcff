import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazyBrandCheck } from '../../scripts/lazy-global-headers';
import { LAZY_REQUIRES, lazyRequires } from '../../scripts/lazy-requires';

const require = createRequire(import.meta.url);
const fastifyServerPath = require.resolve('fastify/lib/server.js');
const fastifyPluginUtilsPath = require.resolve('fastify/lib/plugin-utils.js');
const undiciClientPath = require.resolve('undici/lib/dispatcher/client.js');
const undiciCookiesPath = require.resolve('undici/lib/web/cookies/index.js');

/**
 * In a fresh node: Fastify and undici with `sources` (path → text) compiled in place of those
 * files; says whether requiring both loaded node:http2, node:https or semver, then serves
 * HTTP/2 (cleartext) with Fastify and sends one request to it with undici's H2CClient
 * (client-h2.js), one HTTP/1.1 request with undici's Client to a plain Fastify, and registers
 * plugins that declare the Fastify version they need (checked with semver).
 */
function runInChild(sources: Record<string, string>): { http2AtLoad: boolean; httpsAtLoad: boolean; semverAtLoad: boolean; h2: string; h1: string; versions: string[] } {
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
    const semverAtLoad = Object.keys(require.cache).some((file) => /[\\/]node_modules[\\/]semver[\\/]/.test(file));
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
      const versions = [];
      for (const wanted of ['5.x', '>=4.0.0', '4.x']) {
        const plugin = async () => {};
        plugin[Symbol.for('plugin-meta')] = { name: 'needs ' + wanted, fastify: wanted };
        const app = fastify();
        app.register(plugin);
        versions.push(await app.ready().then(() => wanted + ' ok', (error) => wanted + ' ' + error.code));
      }
      process.stdout.write(JSON.stringify({ http2AtLoad, httpsAtLoad, semverAtLoad, h2, h1, versions }));
    })().catch((error) => { process.stderr.write(String(error && error.stack)); process.exit(1); });
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as ReturnType<typeof runInChild>;
}

describe("the build's requires on first use (scripts/lazy-requires.ts)", () => {
  const fastifyServer = readFileSync(fastifyServerPath, 'utf8');
  const undiciClient = readFileSync(undiciClientPath, 'utf8');
  const rewritten = (): Record<string, string> =>
    Object.fromEntries([fastifyServerPath, fastifyPluginUtilsPath, undiciClientPath].map((path) => [path, lazyRequires(path, readFileSync(path, 'utf8'))]));

  it('rewrites each eager line of the installed packages once, and refuses a source without it or one that uses the module whole', () => {
    const sources = rewritten();
    for (const rewrite of LAZY_REQUIRES) {
      const path = Object.keys(sources).find((file) => rewrite.file.test(file))!;
      expect(sources[path]).not.toContain(rewrite.eager);
      expect(sources[path]).toContain(rewrite.lazy);
    }
    expect(lazyRequires('/elsewhere/index.js', fastifyServer)).toBe(fastifyServer);
    expect(() => lazyRequires(fastifyServerPath, fastifyServer.replace("const http2 = require('node:http2')", "const http2 = require('http2')"))).toThrow(/no longer has "const http2/);
    expect(() => lazyRequires(undiciClientPath, `${undiciClient}\nconst connectH2 = require('./client-h2.js')`)).toThrow(/no longer has/);
    expect(() => lazyRequires(fastifyServerPath, `${fastifyServer}\nmodule.exports.http2 = http2\n`)).toThrow(/uses "http2" other than as http2\.member: module\.exports\.http2 = http2/);
  });

  it('no longer loads node:http2, node:https or semver with Fastify and undici, and still serves and sends HTTP/2 and checks plugin versions on use', () => {
    const before = runInChild({});
    // As built: undici's cookies module no longer loads Node's own undici (which has HTTP/2) either (scripts/lazy-global-headers.ts).
    const cookies = lazyBrandCheck(readFileSync(undiciCookiesPath, 'utf8'));
    const after = runInChild({ ...rewritten(), [undiciCookiesPath]: cookies });
    // The saving: the originals load them when the packages load.
    expect(before).toMatchObject({ http2AtLoad: true, httpsAtLoad: true, semverAtLoad: true });
    expect(after).toMatchObject({ http2AtLoad: false, httpsAtLoad: false, semverAtLoad: false });
    // Same behaviour: an HTTP/2 server answers undici's HTTP/2 client; HTTP/1.1 as before.
    for (const result of [before, after]) {
      expect(JSON.parse(result.h2)).toEqual({ version: '2.0' });
      expect(JSON.parse(result.h1)).toEqual({ version: '1.1' });
      expect(result.versions).toEqual(['5.x ok', '>=4.0.0 ok', '4.x FST_ERR_PLUGIN_VERSION_MISMATCH']);
    }
  });
});
