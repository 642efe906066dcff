/**
 * Finds the built renderer for `/ui`: `out/renderer` beside the bundled main process, or
 * the checkout's `out/renderer` when running from source (tsx). Null when not built.
 *
 * Only a BUILT page counts: `src/renderer/index.html` is the source page (it loads
 * `./src/main.tsx`, which a browser cannot run), so a folder is taken only when its
 * index.html loads its scripts from JavaScript files that exist beside it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve, sep } from 'node:path';

/** Relative to this module: bundled as out/main/*.js or out/main/chunks/*.js; from source as src/main/admin/*.ts. */
const CANDIDATES = ['../renderer/', '../../renderer/', '../../../out/renderer/'];

export type RendererPageState = { built: true } | { built: false; reason: string };

/**
 * Whether `html` is a built page: it has module scripts, each a relative `.js` path that
 * resolves to a file inside `directory` (`exists` is injectable for tests).
 */
export function inspectRendererPage(html: string, directory: string, exists: (path: string) => boolean = isFile): RendererPageState {
  const sources = [...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["'][^>]*>/gi)].map((match) => match[1] as string);
  if (sources.length === 0) return { built: false, reason: 'index.html loads no script' };
  const root = resolve(directory);
  for (const source of sources) {
    const path = source.split(/[?#]/)[0] as string;
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(path)) return { built: false, reason: `index.html loads ${source} from elsewhere` };
    if (!/\.m?js$/.test(path)) return { built: false, reason: `index.html loads ${source}, a source file (the unbuilt page)` };
    const file = resolve(root, path.replace(/^\/+/, ''));
    if (!file.startsWith(root + sep) || !exists(file)) return { built: false, reason: `index.html loads ${source}, which is missing` };
  }
  return { built: true };
}

/** The state of one folder: built, or why not. */
export function inspectRendererDirectory(directory: string): RendererPageState {
  const page = join(directory, 'index.html');
  let html: string;
  try {
    html = readFileSync(page, 'utf8');
  } catch {
    return { built: false, reason: `${page} does not exist` };
  }
  return inspectRendererPage(html, directory);
}

export function findRendererDirectory(moduleUrl: string = import.meta.url): string | null {
  for (const candidate of CANDIDATES) {
    const directory = fileURLToPath(new URL(candidate, moduleUrl));
    if (existsSync(join(directory, 'index.html')) && inspectRendererDirectory(directory).built) return directory;
  }
  return null;
}

/** The console line and the /ui 404 text when there is no built renderer. */
export const UI_NOT_BUILT_MESSAGE = 'UI not built — run `npm run build` in the Switchyard checkout (or start it with `npm run serve`, which builds it), then restart.';

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
