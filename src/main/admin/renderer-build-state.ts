/**
 * Whether a checkout's built renderer (`out/renderer`) can be served as it is, for
 * `npm run serve` (scripts/ensure-renderer.ts builds it first when it cannot): missing,
 * not a built page, or older than the sources it is built from.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { inspectRendererDirectory } from './renderer-location.js';

/** What the renderer bundle is made of, relative to the checkout. */
export const RENDERER_SOURCES = ['src/renderer', 'src/shared', 'electron.vite.config.ts', 'package-lock.json'];

export type RendererBuildState = { state: 'fresh' } | { state: 'missing' | 'unbuilt' | 'stale'; reason: string };

export function rendererOutputDirectory(checkout: string): string {
  return join(checkout, 'out', 'renderer');
}

/** The newest modification time (ms) among files under `paths`, and which file it was; 0 when none exist. */
export function newestModification(paths: string[]): { mtimeMs: number; path: string | null } {
  let newest = { mtimeMs: 0, path: null as string | null };
  const visit = (path: string): void => {
    let info;
    try {
      info = statSync(path);
    } catch {
      return;
    }
    if (info.isDirectory()) {
      for (const entry of readdirSync(path)) if (entry !== 'node_modules' && !entry.startsWith('.')) visit(join(path, entry));
    } else if (info.mtimeMs > newest.mtimeMs) {
      newest = { mtimeMs: info.mtimeMs, path };
    }
  };
  for (const path of paths) visit(path);
  return newest;
}

/** The state of `output` (the checkout's out/renderer unless given) against the checkout's sources. */
export function rendererBuildState(checkout: string, output: string = rendererOutputDirectory(checkout)): RendererBuildState {
  let builtAt: number;
  try {
    builtAt = statSync(join(output, 'index.html')).mtimeMs;
  } catch {
    return { state: 'missing', reason: `${shown(checkout, join(output, 'index.html'))} does not exist` };
  }
  const page = inspectRendererDirectory(output);
  if (!page.built) return { state: 'unbuilt', reason: page.reason };
  const newest = newestModification(RENDERER_SOURCES.map((path) => join(checkout, path)));
  if (newest.path && newest.mtimeMs > builtAt) return { state: 'stale', reason: `${shown(checkout, newest.path)} changed after the last build` };
  return { state: 'fresh' };
}

/** A path inside the checkout relative to it, any other in full. */
function shown(checkout: string, path: string): string {
  const inside = relative(checkout, path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}
