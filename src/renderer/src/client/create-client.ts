/** Picks the transport at start: the preload's bridge inside Electron, HTTP in a browser. */
import type { SwitchyardBridge } from '../../../shared/contract';
import { HttpClient, readAdminToken } from './http-client';
import { IpcClient } from './ipc-client';
import type { SwitchyardClient } from './switchyard-client';

declare global {
  interface Window {
    switchyard?: SwitchyardBridge;
  }
}

export function createClient(): SwitchyardClient {
  if (window.switchyard) return new IpcClient(window.switchyard);
  const token = readAdminToken({
    hash: window.location.hash,
    replaceHash: (hash) => window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${hash}`),
    storage: window.sessionStorage,
  });
  return new HttpClient({ baseUrl: window.location.origin, token });
}
