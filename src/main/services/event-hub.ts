/**
 * The one place main-process events go before a transport carries them: the Electron
 * shell forwards them to the window over IPC, the admin API streams them over SSE.
 * Typed by the shared contract's `Events`.
 */
import type { EventName, Events } from '../../shared/contract.js';

export type EventListener = <Name extends EventName>(name: Name, payload: Events[Name]) => void;

export class EventHub {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<Name extends EventName>(name: Name, payload: Events[Name]): void {
    for (const listener of this.listeners) {
      try {
        listener(name, payload);
      } catch {
        // A broken transport must not stop the others (or the gateway that emitted).
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
