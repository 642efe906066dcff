import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazyBrandCheck } from '../../scripts/lazy-global-headers';
import { lazyUndiciIndex, WEB_BLOCK_END, WEB_BLOCK_START } from '../../scripts/lazy-undici-index';

const require = createRequire(import.meta.url);
const indexPath = require.resolve('undici');
const cookiesPath = require.resolve('undici/lib/web/cookies/index.js');

interface ChildResult {
  keys: string[];
  /** Built-in modules loaded by `require('undici')` alone. */
  loadedAtLoad: string[];
  agent: string;
  fetched: string;
  fetchedHeader: string | null;
  mocked: string;
  decompress: string;
  errorsShared: boolean;
  replaced: boolean;
}

/**
 * In a fresh node: undici with its index (and, as built, its cookies module) compiled from
 * `sources`; what requiring it loaded, its export names, and its parts used: Agent, fetch,
 * MockAgent, an interceptor, errors, and an assignment to an export.
 */
function runInChild(sources: Record<string, string>): ChildResult {
  const script = `
    const Module = require('node:module');
    const http = require('node:http');
    const sources = ${JSON.stringify(sources)};
    const compileJs = Module._extensions['.js'];
    Module._extensions['.js'] = function (module, filename) {
      if (sources[filename] !== undefined) return module._compile(sources[filename], filename);
      return compileJs(module, filename);
    };
    const before = new Set(process.moduleLoadList);
    const undici = require(${JSON.stringify(indexPath)});
    const loadedAtLoad = process.moduleLoadList.filter((name) => !before.has(name) && name.startsWith('NativeModule '));
    const keys = Object.keys(undici).sort();
    (async () => {
      const server = http.createServer((request, response) => response.setHeader('x-seen', request.url).end('hello ' + request.method));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = 'http://127.0.0.1:' + server.address().port;
      const agent = new undici.Agent();
      const answer = await agent.request({ origin, path: '/agent', method: 'GET' });
      const agentText = await answer.body.text();
      await agent.close();
      const response = await undici.fetch(origin + '/fetch', { method: 'POST', body: 'x' });
      const fetched = await response.text();
      const fetchedHeader = response.headers.get('x-seen');
      const mockAgent = new undici.MockAgent();
      mockAgent.disableNetConnect();
      mockAgent.get('http://mocked.test').intercept({ path: '/' }).reply(200, 'from the mock');
      const mocked = await (await undici.request('http://mocked.test/', { dispatcher: mockAgent })).body.text();
      await mockAgent.close();
      const decompress = typeof undici.interceptors.decompress;
      const errorsShared = new undici.errors.InvalidArgumentError('x') instanceof undici.errors.UndiciError;
      const replacement = () => 'replaced';
      undici.fetch = replacement;
      const replaced = undici.fetch === replacement;
      server.close();
      process.stdout.write(JSON.stringify({ keys, loadedAtLoad, agent: agentText, fetched, fetchedHeader, mocked, decompress, errorsShared, replaced }));
    })().catch((error) => { process.stderr.write(String(error && error.stack)); process.exit(1); });
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as ChildResult;
}

describe("the build's lazy undici index (scripts/lazy-undici-index.ts)", () => {
  const original = readFileSync(indexPath, 'utf8');
  const cookies = lazyBrandCheck(readFileSync(cookiesPath, 'utf8'));

  it('refuses an index whose lines are not the expected ones', () => {
    expect(() => lazyUndiciIndex(original.replace(WEB_BLOCK_START, 'const fetchImpl = null'))).toThrow(/no longer has/);
    expect(() => lazyUndiciIndex(original.replace(WEB_BLOCK_END, ''))).toThrow(/no longer has/);
    expect(() => lazyUndiciIndex(original.replace("const MockPool = require('./lib/mock/mock-pool')", "const MockPool = require('./lib/mock/pool')"))).toThrow(/no longer has "const MockPool/);
    expect(() => lazyUndiciIndex(original.replace("  dump: require('./lib/interceptor/dump'),", "  dump: require('./lib/interceptor/dump').dump,"))).toThrow(/interceptor line/);
  });

  it('keeps every export and its behaviour, and no longer loads fetch, the mocks or their built-in modules with the index', () => {
    const before = runInChild({ [cookiesPath]: cookies });
    const after = runInChild({ [cookiesPath]: cookies, [indexPath]: lazyUndiciIndex(original) });
    // The saving: what the original index loads for fetch, the web classes and the mocks.
    for (const name of ['NativeModule zlib', 'NativeModule internal/webstreams/readablestream', 'NativeModule fs/promises']) {
      expect(before.loadedAtLoad).toContain(name);
      expect(after.loadedAtLoad).not.toContain(name);
    }
    // The same exports, working the same.
    expect(after.keys).toEqual(before.keys);
    expect(after.keys).toEqual(expect.arrayContaining(['Agent', 'errors', 'fetch', 'Headers', 'EventSource', 'WebSocket', 'MockAgent', 'mockErrors', 'caches']));
    for (const result of [before, after]) {
      expect(result).toMatchObject({ agent: 'hello GET', fetched: 'hello POST', fetchedHeader: '/fetch', mocked: 'from the mock', decompress: 'function', errorsShared: true, replaced: true });
    }
  });
});
