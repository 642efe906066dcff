/**
 * Finds the built renderer for `/ui`: `out/renderer` beside the bundled main process, or
 * the checkout's `out/renderer` when running from source (tsx). Null when not built.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function findRendererDirectory(moduleUrl: string = import.meta.url): string | null {
  // Bundled: out/main/cli.js (or a chunk below it); from source: src/main/admin/*.ts.
  const candidates = ['../renderer/', '../../renderer/', '../../out/renderer/', '../../../out/renderer/'];
  for (const candidate of candidates) {
    const url = new URL(candidate, moduleUrl);
    if (existsSync(new URL('index.html', url))) return fileURLToPath(url);
  }
  return null;
}
