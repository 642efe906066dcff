/**
 * What the desktop window loads and whom it trusts, decided from plain inputs: the page
 * (the gateway's /ui/ over HTTP, where the Content-Security-Policy arrives as a header; the
 * dev server under `electron-vite dev`; the built file only when the gateway did not
 * start), which frames may call operations over IPC, which links open in the browser,
 * and whether closing the window hides it to the tray.
 */
import { relative, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WindowPlaces {
  /** ELECTRON_RENDERER_URL under `electron-vite dev`. */
  devServerUrl?: string | undefined;
  /** The running gateway's origin, null when it did not start. */
  gatewayOrigin: string | null;
  /** The built renderer folder (out/renderer). */
  rendererDirectory: string;
}

export type WindowSource = { kind: 'url'; url: string } | { kind: 'file'; path: string };

export function windowSource(places: WindowPlaces): WindowSource {
  if (places.devServerUrl) return { kind: 'url', url: places.devServerUrl };
  if (places.gatewayOrigin) return { kind: 'url', url: `${places.gatewayOrigin}/ui/` };
  return { kind: 'file', path: resolve(places.rendererDirectory, 'index.html') };
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Whether a main frame at `frameUrl` shows our own UI: the gateway's /ui/, the dev
 * server's origin, or a file inside the built renderer folder. (The shell also checks that
 * the sender is our window's main frame.)
 */
export function isTrustedUiUrl(frameUrl: string, places: WindowPlaces): boolean {
  const url = parse(frameUrl);
  if (!url) return false;
  if (places.gatewayOrigin && url.origin === parse(places.gatewayOrigin)?.origin && url.pathname.startsWith('/ui/')) return true;
  if (places.devServerUrl && (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === parse(places.devServerUrl)?.origin) return true;
  if (url.protocol === 'file:') {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch {
      return false;
    }
    const inside = relative(resolve(places.rendererDirectory), path);
    return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  }
  return false;
}

/** Links the window may not open itself go to the browser when they are http(s); anything else is dropped. */
export function opensInBrowser(url: string): boolean {
  const parsed = parse(url);
  return parsed !== null && (parsed.protocol === 'https:' || parsed.protocol === 'http:');
}

/** Closing the window hides it while the tray icon stays (Quit is in the tray menu); it closes for real when quitting or without a tray. */
export function closeHidesWindow(state: { quitting: boolean; trayShown: boolean }): boolean {
  return !state.quitting && state.trayShown;
}

/** The dialog when the app cannot open its data. */
export function startupFailure(error: unknown): { title: string; content: string } {
  const message = error instanceof Error ? error.message : String(error);
  return {
    title: 'Switchyard cannot start',
    content: `${message}\n\nIf this mentions NODE_MODULE_VERSION, run \`node scripts/build-electron-native.mjs\` first.`,
  };
}
