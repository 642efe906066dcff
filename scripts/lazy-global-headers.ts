/**
 * A build step for start-up: undici's cookie helpers (lib/web/cookies/index.js, pulled in by
 * its index, which the gateway imports for `Agent`) read `globalThis.Headers` when the module
 * loads. On Node that global is a lazy getter that loads Node's own copy of undici — fetch,
 * its dispatchers and the llhttp WebAssembly — about 65 ms of CPU at every start of
 * `switchyard serve`, for helpers (getCookies/setCookie) the gateway never calls. This
 * plugin makes that one brand check built on its first use instead, with the same checks.
 * The build fails if the line is not found (an undici upgrade changed it), so the saving
 * cannot silently go away.
 */
import type { Plugin } from 'vite';
import { requiredRewrite } from './required-rewrite';

const COOKIES_MODULE = /[\\/]node_modules[\\/]undici[\\/]lib[\\/]web[\\/]cookies[\\/]index\.js$/;
export const EAGER_BRAND_CHECK = 'const brandChecks = webidl.brandCheckMultiple([Headers, globalThis.Headers].filter(Boolean))';
export const LAZY_BRAND_CHECK =
  'let builtBrandChecks = null\nconst brandChecks = (value) => (builtBrandChecks ??= webidl.brandCheckMultiple([Headers, globalThis.Headers].filter(Boolean)))(value)';

/** The module's source with the brand check made lazy; throws when the eager line is not there exactly once. */
export function lazyBrandCheck(source: string): string {
  const at = source.indexOf(EAGER_BRAND_CHECK);
  if (at < 0 || source.indexOf(EAGER_BRAND_CHECK, at + 1) >= 0) {
    throw new Error(`scripts/lazy-global-headers.ts: undici's cookies module no longer has "${EAGER_BRAND_CHECK}" once; update the plugin`);
  }
  return source.slice(0, at) + LAZY_BRAND_CHECK + source.slice(at + EAGER_BRAND_CHECK.length);
}

/** The vite plugin of the main build (desktop app and CLI bundle undici alike). */
export function lazyGlobalHeaders(): Plugin {
  // A cookies module not seen means undici moved it, and Node's own undici would be loaded at every start again.
  return requiredRewrite('switchyard-lazy-global-headers', COOKIES_MODULE, lazyBrandCheck, "undici's cookies module (lib/web/cookies/index.js) was not in the build: update scripts/lazy-global-headers.ts for this undici");
}
