/**
 * The app's operations, one implementation for every transport: Electron IPC in the
 * desktop app, the HTTP admin API in headless mode. Each domain file contributes its
 * handlers; this file joins them into the one table the contract names.
 */
import { OPERATION_NAMES } from '../../shared/contract.js';
import { createAnalyticsService } from './analytics-service.js';
import { createConversationService } from './conversation-service.js';
import { createGatewayKeyService } from './gateway-key-service.js';
import { createGatewayService } from './gateway-service.js';
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
  };
  for (const name of OPERATION_NAMES) {
    if (typeof handlers[name] !== 'function') throw new Error(`operation ${name} has no handler`);
  }
  return handlers;
}
