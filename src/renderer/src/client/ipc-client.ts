/** The client inside Electron: calls the preload's named functions (IPC to main). */
import type { EventName, Events, OperationInput, OperationName, OperationOutput, SwitchyardBridge } from '../../../shared/contract';
import { ClientError, type SwitchyardClient } from './switchyard-client';

/** Electron wraps errors thrown in main as "Error invoking remote method 'x': Error: message". */
export function unwrapIpcError(error: unknown): ClientError {
  const message = error instanceof Error ? error.message : String(error);
  const inner = /Error invoking remote method '[^']+': (?:\w*Error: )?([\s\S]*)$/.exec(message);
  return new ClientError(inner ? (inner[1] as string) : message, 'ipc_error');
}

export class IpcClient implements SwitchyardClient {
  readonly transport = 'ipc' as const;
  readonly connected = true;

  constructor(private readonly bridge: SwitchyardBridge) {}

  async call<Name extends OperationName>(name: Name, input: OperationInput<Name>): Promise<OperationOutput<Name>> {
    try {
      const operation = this.bridge.operations[name] as (value: OperationInput<Name>) => Promise<OperationOutput<Name>>;
      return await operation(input);
    } catch (error) {
      throw unwrapIpcError(error);
    }
  }

  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void {
    return this.bridge.on(name, listener);
  }

  onConnectionChange(): () => void {
    return () => undefined;
  }
}
