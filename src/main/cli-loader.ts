#!/usr/bin/env node
/**
 * out/main/cli.js: runs the CLI (src/main/cli.ts) from its one-file CommonJS build,
 * out/main/cli-main.cjs, with a V8 code cache (src/main/code-cache.ts), so `switchyard serve`
 * does not compile the whole bundle on every start. The cache is written once the gateway
 * listens, on a later turn of the event loop, so the first request is not kept waiting by it.
 * Without the .cjs (a build without scripts/serve-bundle.ts) it imports the ESM build.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeCacheDirectory, runCachedBundle } from './code-cache.js';
import { onListening } from './startup-ready.js';

const bundlePath = fileURLToPath(new URL('./cli-main.cjs', import.meta.url));
if (existsSync(bundlePath)) {
  const debug = process.env.SWITCHYARD_CODE_CACHE_DEBUG === '1';
  let run: ReturnType<typeof runCachedBundle> | undefined;
  onListening(() => {
    setTimeout(() => {
      const outcome = run?.writeCache() ?? 'unneeded';
      if (debug && outcome !== 'unneeded') process.stderr.write(`switchyard: code cache ${outcome}\n`);
    }, 0).unref();
  });
  run = runCachedBundle(bundlePath, codeCacheDirectory());
  if (debug) process.stderr.write(`switchyard: code cache ${run.state}\n`);
} else {
  await import(new URL('./cli-main.js', import.meta.url).href);
}
