/** Gateway status, today's spend and facts about the app, for the status bar and the tray. */
import type { GatewayStatus, SpendToday } from '../../shared/contract.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

export function gatewayStatus(context: ServiceContext): GatewayStatus {
  const origin = context.runtime.origin;
  return {
    running: origin !== null,
    origin,
    baseUrl: origin ? `${origin}/v1` : null,
    error: context.runtime.error,
    authRequired: context.config.auth,
    inFlight: context.tracker.inFlight,
    sharedState: context.sharedState.status(),
  };
}

export function localMidnight(now: number): number {
  const date = new Date(now);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

export async function spendToday(context: ServiceContext, now = Date.now()): Promise<SpendToday> {
  const since = localMidnight(now);
  const summary = await context.analytics().summary({ from: since, to: now + 1 });
  return { since, requests: summary.requests, costNanoUsd: summary.costNanoUsd, unpricedRequests: summary.unpricedRequests };
}

export function createGatewayService(context: ServiceContext): Pick<OperationHandlers, 'gateway.status' | 'gateway.spend-today' | 'app.information' | 'app.open-data-folder'> {
  return {
    'gateway.status': async () => gatewayStatus(context),
    'gateway.spend-today': () => spendToday(context),
    'app.information': async () => ({ version: context.version, mode: context.mode, dataDirectory: context.dataDirectory, platform: process.platform }),
    'app.open-data-folder': async () => {
      if (!context.shell.openPath) return { opened: false };
      await context.shell.openPath(context.dataDirectory);
      return { opened: true };
    },
  };
}
