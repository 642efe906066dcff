import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { EAGER_BRAND_CHECK, LAZY_BRAND_CHECK, lazyBrandCheck } from '../../scripts/lazy-global-headers';

const require = createRequire(import.meta.url);
const cookiesPath = require.resolve('undici/lib/web/cookies/index.js');

/**
 * Loads undici's cookies module from `source` (compiled as if at its real path, so its
 * requires resolve) in a fresh node, calls its helpers and says whether Node's own undici
 * (behind the lazy `globalThis.Headers`) was loaded by the module's load alone.
 */
function loadInChild(source: string): { loadedNodeUndiciAtLoad: boolean; cookies: string; setCookies: string[]; plainObject: string } {
  const script = `
    const Module = require('node:module');
    const path = ${JSON.stringify(cookiesPath)};
    const m = new Module(path, module);
    m.filename = path;
    m.paths = Module._nodeModulePaths(require('node:path').dirname(path));
    m._compile(${JSON.stringify(source)}, path);
    const loadedNodeUndiciAtLoad = process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
    const { Headers: UndiciHeaders } = m.require('../fetch/headers');
    const cookies = JSON.stringify(m.exports.getCookies(new Headers({ cookie: 'a=1; b=2' })));
    const own = new UndiciHeaders();
    m.exports.setCookie(own, { name: 'c', value: '3' });
    let plainObject = 'accepted';
    try { m.exports.getCookies({}); } catch (error) { plainObject = error.code + ' ' + error.message; }
    process.stdout.write(JSON.stringify({ loadedNodeUndiciAtLoad, cookies, setCookies: own.getSetCookie(), plainObject }));
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as ReturnType<typeof loadInChild>;
}

describe("the build's lazy global Headers (scripts/lazy-global-headers.ts)", () => {
  const original = readFileSync(cookiesPath, 'utf8');

  it("rewrites the installed undici's brand check once, and refuses a source without it", () => {
    const rewritten = lazyBrandCheck(original);
    expect(rewritten).not.toContain(EAGER_BRAND_CHECK);
    expect(rewritten).toContain(LAZY_BRAND_CHECK);
    expect(() => lazyBrandCheck(original.replace(EAGER_BRAND_CHECK, 'const brandChecks = () => {}'))).toThrow(/no longer has/);
    expect(() => lazyBrandCheck(`${original}\n${EAGER_BRAND_CHECK}`)).toThrow(/no longer has/);
  });

  it("no longer loads Node's own undici when the module loads, and checks the same headers on use", () => {
    const before = loadInChild(original);
    const after = loadInChild(lazyBrandCheck(original));
    // The saving: the original's load pulls in Node's undici (fetch, dispatchers, llhttp).
    expect(before.loadedNodeUndiciAtLoad).toBe(true);
    expect(after.loadedNodeUndiciAtLoad).toBe(false);
    // Same behaviour: the global Headers and undici's own pass, anything else is refused.
    for (const result of [before, after]) {
      expect(JSON.parse(result.cookies)).toEqual({ a: '1', b: '2' });
      expect(result.setCookies).toEqual(['c=3']);
      expect(result.plainObject).toBe('ERR_INVALID_THIS Illegal invocation');
    }
  });
});
