/**
 * The extra build step behind a fast `switchyard serve`: after electron-vite has written the
 * main-process build, the ESM CLI (`out/main/cli-main.js` and the chunks it imports) is
 * bundled again into ONE CommonJS file, `out/main/cli-main.cjs`. A classic script is what
 * `vm.Script` can compile with a V8 code cache on Node 20 (no `module.enableCompileCache`
 * before 22.1), which `out/main/cli.js` (src/main/cli-loader.ts) does.
 *
 * - every chunk and dynamic import of the build is inlined (one script, one code cache);
 * - packages stay external, as in the ESM build (`require`d from node_modules); their
 *   dynamic imports become `require` (an `import()` inside a script compiled from a code
 *   cache fails on Node 20: "A dynamic import callback was not specified");
 * - non-ASCII characters are escaped, so the loader reads the file as Latin-1 without a
 *   UTF-8 decode; comments are dropped (smaller to read and scan);
 * - its last line is the SHA-1 of the rest (src/main/code-cache.ts bundleHash), so the
 *   loader need not hash 3 MB at every start;
 * - `import.meta.url` becomes the .cjs file's own URL, so worker entries, the renderer
 *   folder and `createRequire` are still found beside the bundle.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { rolldown } from 'rolldown';
import type { Plugin } from 'vite';
import { BUNDLE_HASH_LINE } from '../src/main/code-cache';

/** The ESM entry (electron-vite input name) and the classic script made from it. */
export const SERVE_ENTRY = 'cli-main';
export const SERVE_BUNDLE_FILE = `${SERVE_ENTRY}.cjs`;
/** The loader (src/main/cli-loader.ts, built as out/main/cli.js) and its CommonJS copy, which bin/switchyard.js requires. */
export const LOADER_ENTRY = 'cli';
export const LOADER_CJS_FILE = `${LOADER_ENTRY}.cjs`;

function isPackage(id: string): boolean {
  return isBuiltin(id) || !(id.startsWith('.') || id.startsWith('/') || id.startsWith('\0') || /^[A-Za-z]:[\\/]/.test(id));
}

/** Bundles `<outDirectory>/cli-main.js` into `<outDirectory>/cli-main.cjs`. */
export async function writeServeBundle(outDirectory: string): Promise<void> {
  const bundle = await rolldown({ input: join(outDirectory, `${SERVE_ENTRY}.js`), platform: 'node', external: isPackage, logLevel: 'warn' });
  try {
    await bundle.write({ file: join(outDirectory, SERVE_BUNDLE_FILE), format: 'cjs', strict: true, codeSplitting: false, dynamicImportInCjs: false, charset: 'ascii', comments: false });
  } finally {
    await bundle.close();
  }
  // A script wrapped in a function may not start with a shebang line (the loader has one).
  // The last line holds the content hash, the loader's key for the code cache.
  const file = join(outDirectory, SERVE_BUNDLE_FILE);
  let source = readFileSync(file, 'latin1');
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  if (!source.endsWith('\n')) source += '\n';
  // The ESM chunks it is made from were strict (modules always are): so must the script be,
  // or the CLI would run the code the tests ran under sloppy-mode rules.
  if (!/^(\/\/[^\n]*\n)*"use strict";/.test(source)) throw new Error(`scripts/serve-bundle.ts: ${SERVE_BUNDLE_FILE} does not begin with "use strict"`);
  writeFileSync(file, `${source}${BUNDLE_HASH_LINE}${createHash('sha1').update(source, 'latin1').digest('hex')}\n`, 'latin1');
}

/**
 * Writes `<outDirectory>/cli.cjs`, the loader as CommonJS. A CommonJS main module spares Node
 * its ES module loader: with bin/switchyard.js's node flags, which make V8 refuse Node's own
 * code cache for its built-in modules, the ESM loader's modules are compiled at every start
 * (~40 million instructions more than a CommonJS main, measured on empty files).
 */
export async function writeLoaderCjs(outDirectory: string): Promise<void> {
  const bundle = await rolldown({ input: join(outDirectory, `${LOADER_ENTRY}.js`), platform: 'node', external: isPackage, logLevel: 'warn' });
  try {
    await bundle.write({ file: join(outDirectory, LOADER_CJS_FILE), format: 'cjs', strict: true, codeSplitting: false, comments: false });
  } finally {
    await bundle.close();
  }
  const file = join(outDirectory, LOADER_CJS_FILE);
  let source = readFileSync(file, 'utf8');
  if (!/^(#![^\n]*\n)?(\/\/[^\n]*\n)*"use strict";/.test(source)) throw new Error(`scripts/serve-bundle.ts: ${LOADER_CJS_FILE} does not begin with "use strict"`);
  // Required by the bin, never run as a script of its own.
  if (source.startsWith('#!')) source = source.slice(source.indexOf('\n') + 1);
  writeFileSync(file, source);
}

/** The vite plugin of the main build that runs writeServeBundle once the build is written. */
export function serveBundle(): Plugin {
  let outDirectory: string | undefined;
  return {
    name: 'switchyard-serve-bundle',
    apply: 'build',
    writeBundle(options) {
      outDirectory = options.dir;
    },
    async closeBundle() {
      if (outDirectory) await Promise.all([writeServeBundle(outDirectory), writeLoaderCjs(outDirectory)]);
    },
  };
}
