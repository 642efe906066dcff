/**
 * The app's operations, one implementation for every transport: Electron IPC in the
 * desktop app, the HTTP admin API in headless mode. Each domain file contributes its
 * handlers; this file joins them into the one table the contract names, with the key
 * stores' refusals (no keychain, a malformed key) turned into OperationErrors on the way
 * out, so both transports show their message instead of an internal error.
 */
import { OPERATION_NAMES } from '../../shared/contract.js';
import { createAnalyticsService } from './analytics-service.js';
import { createConversationService } from './conversation-service.js';
import { createGatewayKeyService } from './gateway-key-service.js';
import { createGatewayService } from './gateway-service.js';
import { createCacheService } from './cache-service.js';
import { createLimitsService } from './limits-service.js';
import { asOperationError } from './operation-error.js';
import { createProviderService, ProviderDirectory } from './provider-service.js';
import { createRequestService } from './request-service.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';
import { createSettingsService } from './settings-service.js';

export type { OperationHandlers } from './service-context.js';

export function createAppServices(context: ServiceContext, directory = new ProviderDirectory(context)): OperationHandlers {
  const handlers: OperationHandlers = {
    ...createGatewayService(context),
    ...createProviderService(context, directory),
    ...createGatewayKeyService(context),
    ...createRequestService(context),
    ...createConversationService(context),
    ...createAnalyticsService(context),
    ...createSettingsService(context),
    ...createLimitsService(context, context.limits),
    ...createCacheService(context),
  };
  for (const name of OPERATION_NAMES) {
    const handler = handlers[name] as ((input: unknown) => Promise<unknown>) | undefined;
    if (typeof handler !== 'function') throw new Error(`operation ${name} has no handler`);
    (handlers as Record<string, (input: unknown) => Promise<unknown>>)[name] = async (input) => {
      try {
        return await handler(input);
      } catch (error) {
        throw asOperationError(error);
      }
    };
  }
  return handlers;
}
