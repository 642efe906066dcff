/**
 * Run by `npm run serve` before the gateway starts: builds the UI (`out/renderer`, the
 * renderer only, with electron.vite.config.ts's renderer config) when it is missing or
 * older than its sources, so `/ui` works from a fresh clone. Never stops the gateway from
 * starting: when the build fails it says so, and `serve` runs without a UI.
 *
 * `--out DIR` checks and builds DIR instead of out/renderer (for tests).
 */
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { rendererBuildState, rendererOutputDirectory } from '../src/main/admin/renderer-build-state.js';

const checkout = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const target = values.out ? resolve(values.out) : rendererOutputDirectory(checkout);

async function buildRenderer(): Promise<void> {
  const { resolveConfig } = await import('electron-vite');
  const { build } = await import('vite');
  process.env.NODE_ENV_ELECTRON_VITE = 'production';
  const resolved = await resolveConfig({ root: checkout, logLevel: 'error' }, 'build', 'production');
  const renderer = resolved.config?.renderer;
  if (!renderer) throw new Error('electron.vite.config.ts has no renderer config');
  // Built beside and swapped in whole, so a gateway already serving the folder never sees half a build.
  const staging = join(dirname(target), `.${basename(target)}-build-${process.pid}`);
  const previous = join(dirname(target), `.${basename(target)}-previous-${process.pid}`);
  try {
    await build({ ...renderer, logLevel: 'error', build: { ...renderer.build, outDir: staging, emptyOutDir: true } });
    try {
      renameSync(target, previous);
    } catch {
      // No earlier build.
    }
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(previous, { recursive: true, force: true });
  }
}

const state = rendererBuildState(checkout, target);
if (state.state !== 'fresh') {
  const started = Date.now();
  process.stdout.write(`switchyard: building the UI (${state.reason}) …\n`);
  try {
    await buildRenderer();
    process.stdout.write(`switchyard: UI built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    process.stderr.write(`switchyard: UI not built — building the renderer failed: ${(error as Error).message}\nswitchyard: run \`npm run build\` to see why; the gateway starts without the UI.\n`);
  }
}
