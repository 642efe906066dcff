/**
 * What every domain service is built from: the gateway configuration, storage, the key
 * managers, the live request tracker, the event hub, the settings, the gateway's
 * reliability state (circuit breakers, concurrency gates), and the shell's optional
 * hooks. The composition root (application.ts) builds it once.
 */
import type { OperationName, Operations } from '../../shared/contract.js';
import type { GatewayConfig } from '../gateway/config.js';
import type { LimitsPolicy } from '../gateway/policies/limits.js';
import type { ResponseCache } from '../gateway/policies/response-cache.js';
import type { TelemetryConfig } from '../telemetry/telemetry-config.js';
import type { TelemetryPolicy } from '../telemetry/telemetry-policy.js';
import type { Reliability } from '../gateway/context.js';
import type { ModelCatalog } from '../gateway/routing/model-catalog.js';
import type { UpstreamClient } from '../gateway/routing/upstream-client.js';
import type { PriceBook, PriceOverrides } from '../pricing/catalog.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { AnalyticsClient } from '../storage/analytics-worker.js';
import type { PostgresPool } from '../storage/postgres/connection.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { RequestLogReader, RequestLogSink } from '../storage/store.js';
import type { EventHub } from './event-hub.js';
import type { FirstRunKey } from './first-run-key.js';
import type { AppGatewayAuth } from './gateway-auth.js';
import type { GatewayKeyManager, ProviderKeyManager } from './key-managers.js';
import type { LiveRequestTracker } from './live-request-tracker.js';
import type { SettingsStore } from './settings-store.js';
import type { SharedState } from '../shared-state/shared-state.js';

export type OperationHandlers = { [Name in OperationName]: (input: Operations[Name]['input']) => Promise<Operations[Name]['output']> };

/** What only the desktop shell can do; absent in headless mode. */
export interface ShellHooks {
  openPath?(path: string): Promise<void>;
  getStartAtLogin?(): boolean;
  setStartAtLogin?(enabled: boolean): void;
}

/** Facts about the running gateway, filled in once it listens. */
export interface GatewayRuntime {
  origin: string | null;
  error: string | null;
  catalog: ModelCatalog | null;
}

export interface ServiceContext {
  mode: 'desktop' | 'headless';
  version: string;
  dataDirectory: string;
  config: GatewayConfig;
  /** Base URLs before the app's overrides, per provider id. */
  defaultBaseUrls: Map<string, string>;
  environmentSecrets: SecretStore;
  providerKeys: ProviderKeyManager;
  gatewayKeys: GatewayKeyManager;
  /** The desktop app's first gateway key, held until the renderer takes it once. */
  firstRunKey: FirstRunKey;
  auth: AppGatewayAuth;
  /** The SQLite log's own connection (retention); null when the log is in a team's PostgreSQL. */
  database: SqliteDatabase | null;
  /** A team's PostgreSQL holding the log (retention trims it there); null on SQLite. */
  sharedLog: PostgresPool | null;
  /** Every read of the request log, on whichever store holds it. */
  log: RequestLogReader;
  /** The request log's writer side (a worker thread): settings it takes, and a wait for what was handed over. */
  requestLog: Pick<RequestLogSink, 'setStoreBodies' | 'committed'>;
  analytics: () => AnalyticsClient;
  priceBook: () => PriceBook;
  setPriceOverrides(overrides: PriceOverrides): void;
  tracker: LiveRequestTracker;
  events: EventHub;
  settings: SettingsStore;
  runtime: GatewayRuntime;
  upstream: UpstreamClient;
  /** The gateway's circuit breakers and concurrency gates (the application owns them; the gateway uses them). */
  reliability: Reliability;
  /** Rate limits and budgets: the gateway's policy, its rules edited in Settings. */
  limits: LimitsPolicy;
  /** The response cache: its statistics and Clear in Settings. */
  cache: ResponseCache;
  /** Where limits, the cache and breakers keep their state: this process, or Redis (chosen at start). */
  sharedState: SharedState;
  /** OpenTelemetry as resolved at start (config file, settings, OTEL_*), and its policy when on. */
  telemetry: { config: TelemetryConfig; policy: TelemetryPolicy | null };
  shell: ShellHooks;
}
