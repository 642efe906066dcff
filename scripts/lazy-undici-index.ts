/**
 * A build step for start-up: undici's index (the gateway imports `Agent` and `errors` from
 * it) loads, when it loads, all of undici: fetch and its web classes (Headers, Response,
 * FormData, caches, cookies, WebSocket, EventSource — with Node's web streams, zlib and
 * console), the mock agents (with node:fs/promises for snapshots) and every interceptor. The
 * gateway uses none of these, and with bin/switchyard.js's heap flags the built-in modules they
 * pull in are compiled from source at every start (docs/benchmarks.md, "Start-up, fifth
 * session"). This rewrite of the index keeps every export, but those parts load on the first
 * read of one of their exports:
 *
 * - the web block (from `const fetchImpl = …` to the line before `module.exports.request = …`,
 *   and EventSource's two lines further down) runs inside a function, on its own `module.exports`, the first time one of the names it
 *   exports is read from undici's exports (getters, which an assignment replaces);
 * - the mock classes likewise (their `const … = require('./lib/mock/…')` lines and their
 *   `module.exports.… = …` lines become one function and getters);
 * - `interceptors`' members become getters that require their module.
 *
 * Our code imports only the public `undici` package. The build fails if any line it rewrites
 * is not found exactly as expected (an undici upgrade changed it).
 */
import type { Plugin } from 'vite';
import { requiredRewrite } from './required-rewrite';

const INDEX = /[\\/]node_modules[\\/]undici[\\/]index\.js$/;
export const WEB_BLOCK_START = "const fetchImpl = require('./lib/web/fetch').fetch";
export const WEB_BLOCK_END = 'module.exports.request = makeDispatcher(api.request)';
const MOCK_REQUIRES = [
  "const MockClient = require('./lib/mock/mock-client')",
  "const { MockCallHistory, MockCallHistoryLog } = require('./lib/mock/mock-call-history')",
  "const MockAgent = require('./lib/mock/mock-agent')",
  "const MockPool = require('./lib/mock/mock-pool')",
  "const SnapshotAgent = require('./lib/mock/snapshot-agent')",
  "const mockErrors = require('./lib/mock/mock-errors')",
];
const MOCK_EXPORTS = ['MockClient', 'MockCallHistory', 'MockCallHistoryLog', 'MockPool', 'MockAgent', 'SnapshotAgent', 'mockErrors'];
/** After the mocks' exports, and part of the web block. */
const EVENT_SOURCE = ["const { EventSource } = require('./lib/web/eventsource/eventsource')", 'module.exports.EventSource = EventSource'];
const INTERCEPTOR = /^( {2})(\w+): require\(('\.\/lib\/interceptor\/[\w-]+')\)(,?)$/;

function fail(message: string): never {
  throw new Error(`scripts/lazy-undici-index.ts: undici's index.js ${message}; update the plugin`);
}

/** Replaces `text` (exactly once) in `source`. */
function replaceOnce(source: string, text: string, replacement: string): string {
  const at = source.indexOf(text);
  if (at < 0 || source.indexOf(text, at + 1) >= 0) fail(`no longer has "${text}" once`);
  return source.slice(0, at) + replacement + source.slice(at + text.length);
}

/** Getters on `module.exports` that read each name from `load()`; assigning one replaces it with the value. */
function lazyExports(names: string[], load: string): string {
  return (
    `for (const name of ${JSON.stringify(names)}) {\n` +
    `  Object.defineProperty(module.exports, name, {\n` +
    `    enumerable: true, configurable: true,\n` +
    `    get () { return ${load}()[name] },\n` +
    `    set (value) { Object.defineProperty(module.exports, name, { value, writable: true, enumerable: true, configurable: true }) }\n` +
    `  })\n` +
    `}\n`
  );
}

/** undici's index.js with its web block, mocks and interceptors loaded on first use; throws when the source is not as expected. */
export function lazyUndiciIndex(source: string): string {
  let result = source;
  // The web block: its own exports object, filled on the first read of one of its names.
  const start = result.indexOf(WEB_BLOCK_START);
  const end = result.indexOf(WEB_BLOCK_END);
  if (start < 0 || end < start || result.indexOf(WEB_BLOCK_START, start + 1) >= 0 || result.indexOf(WEB_BLOCK_END, end + 1) >= 0) fail(`no longer has "${WEB_BLOCK_START}" … "${WEB_BLOCK_END}" once`);
  for (const line of EVENT_SOURCE) result = replaceOnce(result, `${line}\n`, '');
  const block = `${result.slice(start, result.indexOf(WEB_BLOCK_END))}${EVENT_SOURCE.join('\n')}\n`;
  const webNames = [...new Set([...block.matchAll(/^module\.exports\.(\w+) =/gm)].map((match) => match[1]!))];
  if (!webNames.includes('fetch') || !webNames.includes('Headers')) fail('web block exports neither fetch nor Headers');
  // The block may use only what it requires itself and `module.exports` (its own, inside the function).
  const web =
    'let loadedWeb = null\n' +
    'function loadWeb () {\n' +
    '  if (loadedWeb) return loadedWeb\n' +
    '  const module = { exports: {} }\n' +
    `  ;(() => {\n${block}\n  })()\n` +
    '  return (loadedWeb = module.exports)\n' +
    '}\n' +
    lazyExports(webNames, 'loadWeb') +
    '\n';
  result = result.slice(0, start) + web + result.slice(result.indexOf(WEB_BLOCK_END));
  // The mocks.
  for (const line of MOCK_REQUIRES) result = replaceOnce(result, `${line}\n`, '');
  for (const name of MOCK_EXPORTS) result = replaceOnce(result, `module.exports.${name} = ${name}\n`, '');
  result +=
    '\nlet loadedMocks = null\n' +
    'function loadMocks () {\n' +
    '  if (loadedMocks) return loadedMocks\n' +
    `${MOCK_REQUIRES.map((line) => `  ${line}\n`).join('')}` +
    `  return (loadedMocks = { ${MOCK_EXPORTS.join(', ')} })\n` +
    '}\n' +
    lazyExports(MOCK_EXPORTS, 'loadMocks');
  // The interceptors: getters requiring their module.
  const interceptorsStart = result.indexOf('module.exports.interceptors = {\n');
  const interceptorsEnd = result.indexOf('\n}\n', interceptorsStart);
  if (interceptorsStart < 0 || interceptorsEnd < 0) fail('no longer has "module.exports.interceptors = {"');
  const members = result.slice(interceptorsStart + 'module.exports.interceptors = {\n'.length, interceptorsEnd).split('\n');
  const lazyMembers = members.map((line) => {
    const match = INTERCEPTOR.exec(line);
    if (!match) fail(`has an interceptor line not of the form "name: require('./lib/interceptor/…')": ${line}`);
    return `${match[1]}get ${match[2]} () { return require(${match[3]}) }${match[4]}`;
  });
  result = result.slice(0, interceptorsStart) + `module.exports.interceptors = {\n${lazyMembers.join('\n')}` + result.slice(interceptorsEnd);
  return result;
}

/** The vite plugin of the main build (desktop app and CLI bundle undici alike). */
export function lazyUndiciIndexPlugin(): Plugin {
  return requiredRewrite('switchyard-lazy-undici-index', INDEX, lazyUndiciIndex, "undici's index.js was not in the build: update scripts/lazy-undici-index.ts for this undici");
}
