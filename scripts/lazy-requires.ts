/**
 * A build step for start-up: modules that bundled packages require when they load, for
 * features `serve` never uses, are required on their first use instead. With
 * bin/switchyard.js's heap flags V8 refuses Node's own code cache, so built-in modules are
 * compiled from source at every start (docs/benchmarks.md, "Start-up, fifth session"):
 *
 * - `node:http2` (~20 ms of CPU with what it pulls in: its core, `node:tls`, `node:assert`, …)
 *   and `node:https`: Fastify's lib/server.js requires both for an HTTP/2 or HTTPS server, and
 *   undici's lib/dispatcher/client.js requires client-h2.js (which requires `node:http2`) for
 *   upstreams that negotiate HTTP/2;
 * - `semver` (some forty regular expressions built when it loads): Fastify's
 *   lib/plugin-utils.js checks with it the Fastify version a plugin declares, which none of
 *   the gateway's plugins do.
 *
 * Fastify's modules become objects that require the module on the first property read
 * (`http2.createServer(…)`, `semver.satisfies(…)` work as before); the build fails if the file
 * uses such a name other than as `name.member`. undici's `connectH2` becomes a function that
 * requires client-h2.js on its first call (a connection whose ALPN said h2), then calls it with
 * the same arguments.
 *
 * The build fails if a line is not found exactly once (an upgrade changed it), so the saving
 * cannot silently go away.
 */
import type { Plugin } from 'vite';

interface Rewrite {
  /** The module's path inside node_modules. */
  file: RegExp;
  eager: string;
  lazy: string;
  /** A name the rewritten line binds that the rest of the file may only use as `name.member`. */
  memberOnly?: string;
}

/** A module object whose members are read from `require(id)` on first use (the require stays visible to the bundler). */
const lazyModule = (name: string, id: string): string => `const ${name} = new Proxy({}, { get: (_target, key) => require('${id}')[key] })`;

export const LAZY_REQUIRES: Rewrite[] = [
  { file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/, eager: "const https = require('node:https')", lazy: lazyModule('https', 'node:https'), memberOnly: 'https' },
  { file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/, eager: "const http2 = require('node:http2')", lazy: lazyModule('http2', 'node:http2'), memberOnly: 'http2' },
  { file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]plugin-utils\.js$/, eager: "const semver = require('semver')", lazy: lazyModule('semver', 'semver'), memberOnly: 'semver' },
  {
    file: /[\\/]node_modules[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    eager: "const connectH2 = require('./client-h2.js')",
    lazy: "let loadedConnectH2 = null\nconst connectH2 = (...args) => (loadedConnectH2 ??= require('./client-h2.js'))(...args)",
  },
];

/** Code lines of `source` without `//` and JSDoc comment lines (where type names like `http2.Http2Server` appear). */
function codeLines(source: string): string[] {
  return source.split('\n').filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line));
}

/** `source` with every rewrite that applies to `id` made; throws when an eager line is not there exactly once, or a lazy name is used whole. */
export function lazyRequires(id: string, source: string): string {
  let result = source;
  for (const rewrite of LAZY_REQUIRES) {
    if (!rewrite.file.test(id)) continue;
    const at = result.indexOf(rewrite.eager);
    if (at < 0 || result.indexOf(rewrite.eager, at + 1) >= 0) {
      throw new Error(`scripts/lazy-requires.ts: ${id} no longer has "${rewrite.eager}" once; update the plugin`);
    }
    result = result.slice(0, at) + rewrite.lazy + result.slice(at + rewrite.eager.length);
    if (rewrite.memberOnly) {
      // The name, not preceded by `.`/a word character/quote and not followed by `.member`: a use of the whole module.
      const whole = new RegExp(`(?<![\\w.$'"\`])${rewrite.memberOnly}(?![\\w$'"\`]|\\.\\w)`);
      const uses = codeLines(result).filter((line) => !line.includes(rewrite.lazy) && whole.test(line));
      if (uses.length > 0) throw new Error(`scripts/lazy-requires.ts: ${id} uses "${rewrite.memberOnly}" other than as ${rewrite.memberOnly}.member: ${uses[0]!.trim()}`);
    }
  }
  return result;
}

/** The vite plugin of the main build (desktop app and CLI bundle Fastify and undici alike). */
export function lazyRequiresPlugin(): Plugin {
  const seen = new Set<Rewrite>();
  return {
    name: 'switchyard-lazy-requires',
    apply: 'build',
    transform(code, id) {
      const rewrites = LAZY_REQUIRES.filter((rewrite) => rewrite.file.test(id));
      if (rewrites.length === 0) return null;
      for (const rewrite of rewrites) seen.add(rewrite);
      return { code: lazyRequires(id, code), map: null };
    },
    buildEnd(error) {
      // The main build always bundles both: a file not seen means the package moved it.
      const missing = LAZY_REQUIRES.filter((rewrite) => !seen.has(rewrite));
      if (!error && missing.length > 0) this.error(`scripts/lazy-requires.ts: ${missing.map((rewrite) => rewrite.file.source).join(', ')} not in the build: update the plugin`);
    },
  };
}
