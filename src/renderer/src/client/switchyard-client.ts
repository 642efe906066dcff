/**
 * The renderer's one way to reach main: the contract's operations and events behind one
 * interface, with an IPC implementation (inside Electron, through the preload's
 * `window.switchyard`) and an HTTP one (a browser on a headless gateway's /ui). Chosen
 * once at start by `createClient`.
 */
import type { EventName, Events, OperationInput, OperationName, OperationOutput } from '../../../shared/contract';

export interface SwitchyardClient {
  readonly transport: 'ipc' | 'http';
  call<Name extends OperationName>(name: Name, input: OperationInput<Name>): Promise<OperationOutput<Name>>;
  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void;
  /** Events are flowing (HTTP: the SSE stream is open). */
  readonly connected: boolean;
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

/** An operation that failed, with the message main chose for the user. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A small typed listener registry both implementations use. */
export class ListenerRegistry {
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();

  add(name: string, listener: (payload: unknown) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  dispatch(name: string, payload: unknown): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`listener for ${name} failed`, error);
      }
    }
  }
}
