import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { lazyGlobalHeaders } from './scripts/lazy-global-headers';
import { lazyRequiresPlugin } from './scripts/lazy-requires';
import { lazyUndiciIndexPlugin } from './scripts/lazy-undici-index';
import { FASTIFY_ON_FIRST_USE } from './scripts/on-first-use';
import { precompileChecks } from './scripts/precompile-checks';
import { SERVE_ENTRY, serveBundle } from './scripts/serve-bundle';

export default defineConfig({
  main: {
    build: {
      // Bundling the pure-JS server libraries into the output halves module loading at
      // start-up (the gateway must be ready within 300 ms); native modules stay external.
      externalizeDeps: { exclude: ['fastify', 'undici', 'typebox'] },
      rollupOptions: {
        // Packages Fastify requires only on first use, which `serve` never makes, stay out of
        // the bundle (scripts/on-first-use.ts).
        external: FASTIFY_ON_FIRST_USE,
        // The Electron entry and the headless CLI share one bundle of gateway code. `cli` is
        // a small loader that runs the CLI from one CommonJS file with a V8 code cache
        // (made from `cli-main` by scripts/serve-bundle.ts after this build).
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/main/cli-loader.ts'),
          [SERVE_ENTRY]: resolve(__dirname, 'src/main/cli.ts'),
          // Worker threads load these by name from beside the bundle.
          'analytics-worker-entry': resolve(__dirname, 'src/main/storage/analytics-worker-entry.ts'),
          'request-writer-worker-entry': resolve(__dirname, 'src/main/storage/request-writer-worker-entry.ts'),
        },
      },
    },
    plugins: [lazyGlobalHeaders(), lazyRequiresPlugin(), lazyUndiciIndexPlugin(), precompileChecks(), serveBundle()],
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      // The window must start fast: ship the renderer minified (electron-vite leaves it readable by default).
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
