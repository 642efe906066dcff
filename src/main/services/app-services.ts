/**
 * The app's operations, one implementation for every transport: Electron IPC in the
 * desktop app, the HTTP admin API in headless mode. Each handler takes the contract's
 * input and returns its output; nothing here imports Electron.
 */
import type { Operations, OperationName, GatewayStatus } from '../../shared/contract.js';
import type { RunningGateway } from '../headless.js';

export type OperationHandlers = { [Name in OperationName]: (input: Operations[Name]['input']) => Promise<Operations[Name]['output']> };

export function createAppServices(state: { gateway: RunningGateway | null; error: string | null }): OperationHandlers {
  const status = (): GatewayStatus => ({
    running: state.gateway !== null,
    baseUrl: state.gateway ? `${state.gateway.origin}/v1` : null,
    error: state.error,
  });
  return {
    'gateway.status': async () => status(),
    'providers.list': async () => {
      const gateway = state.gateway;
      if (!gateway) return [];
      return gateway.config.providers.map((provider) => ({
        id: provider.id,
        name: provider.name,
        baseUrl: provider.baseUrl,
        local: provider.local,
        keySource: !provider.requiresKey ? 'not-needed' : gateway.secrets.get(provider.id) ? 'environment' : 'none',
      }));
    },
  };
}
