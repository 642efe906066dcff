/**
 * The one typed contract between main and the renderer: every operation the renderer may
 * call and every event main pushes. The preload exposes exactly these names; the HTTP
 * admin API (headless `/ui`) serves the same table. Types only — no Node, no Electron.
 */

export interface GatewayStatus {
  running: boolean;
  /** `http://127.0.0.1:PORT/v1` */
  baseUrl: string | null;
  error: string | null;
}

export interface ProviderSummary {
  id: string;
  name: string;
  baseUrl: string;
  local: boolean;
  keySource: 'environment' | 'keychain' | 'none' | 'not-needed';
}

/** Operations the renderer can ask main for: name → (argument) → result. */
export interface Operations {
  'gateway.status': { input: void; output: GatewayStatus };
  'providers.list': { input: void; output: ProviderSummary[] };
}

/** Events main pushes to the renderer. */
export interface Events {
  'gateway.status-changed': GatewayStatus;
}

export type OperationName = keyof Operations;
export type EventName = keyof Events;

/** The operation names, as data, so the preload and the HTTP admin API can be generated from them. */
export const OPERATION_NAMES: readonly OperationName[] = ['gateway.status', 'providers.list'] as const;
export const EVENT_NAMES: readonly EventName[] = ['gateway.status-changed'] as const;

/** What the renderer sees on `window.switchyard`. */
export interface SwitchyardBridge {
  call<Name extends OperationName>(name: Name, input: Operations[Name]['input']): Promise<Operations[Name]['output']>;
  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void;
}
