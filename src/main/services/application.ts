/**
 * The composition root shared by the desktop shell and `switchyard serve`: configuration
 * (config file + the app's settings + flags), storage (the request log, whose writer
 * thread observes the gateway, and the analytics worker), the key managers and the gateway's key check
 * (and, on the desktop app's first start, its first gateway key),
 * the live request tracker, the gateway's reliability state (circuit breakers whose
 * changes reach the UI, concurrency gates), and the services. Listening stays the
 * caller's job (headless.ts), so the port-taken dialog can retry without reopening anything.
 */
import type { ConfigFile, GatewayConfig } from '../gateway/config.js';
import { loadConfig } from '../gateway/config.js';
import { createReliability, type Reliability, type RequestObserver } from '../gateway/context.js';
import type { Policy } from '../gateway/pipeline/policy.js';
import { LimitsPolicy } from '../gateway/policies/limits.js';
import { ResponseCache } from '../gateway/policies/response-cache.js';
import { resolveTelemetryConfig } from '../telemetry/telemetry-config.js';
import { startTelemetry, TelemetryPolicy } from '../telemetry/telemetry-policy.js';
import { ConfigError } from '../gateway/config.js';
import { validateRedisUrl } from '../shared-state/redis-connection.js';
import { createSharedState } from '../shared-state/shared-state.js';
import { costOfRecord } from '../storage/record-cost.js';
import type { StoredRequestRecord } from '../storage/stored-record.js';
import type { ModelCatalog } from '../gateway/routing/model-catalog.js';
import { UpstreamClient } from '../gateway/routing/upstream-client.js';
import { createPriceBook, type PriceBook } from '../pricing/catalog.js';
import { EnvironmentSecretStore, LayeredSecretStore, type SecretStore } from '../secrets/secret-store.js';
import { createAnalyticsClient, type AnalyticsClient } from '../storage/analytics-worker.js';
import { databasePath } from '../storage/database.js';
import { SqliteGatewayKeyManager } from '../storage/gateway-keys.js';
import { openRequestLog } from '../storage/request-log.js';
import type { TeamStore } from '../storage/postgres/team-store.js';
import { sqliteRequestLogReader, type RequestLogSink } from '../storage/store.js';
import { afterCommit, sqliteStoredResponses, type StoredResponses } from '../storage/stored-responses.js';
import { createAppServices, type OperationHandlers } from './app-services.js';
import { CircuitNotices } from './circuit-notices.js';
import { EventHub } from './event-hub.js';
import { FirstRunKey } from './first-run-key.js';
import { AppGatewayAuth } from './gateway-auth.js';
import { gatewayStatus } from './gateway-service.js';
import { MemoryProviderKeyManager, type GatewayKeyManager, type ProviderKeyManager } from './key-managers.js';
import { LiveRequestTracker } from './live-request-tracker.js';
import { nextCircuitProbeAt, ProviderDirectory } from './provider-service.js';
import type { ServiceContext, ShellHooks } from './service-context.js';
import { priceOverridesOf, runRetention } from './settings-service.js';
import { SettingsStore } from './settings-store.js';
import type { ProviderKeyStore } from '../secrets/keychain.js';
import { listenForKeyNotices, type NoticeListener } from '../secrets/key-change-notices.js';

export const APP_VERSION = '0.1.0';
const RETENTION_INTERVAL_MS = 6 * 3600_000;

export interface ApplicationOptions {
  dataDirectory: string;
  mode: 'desktop' | 'headless';
  configFile?: ConfigFile;
  overrides?: { host?: string; port?: number; auth?: boolean };
  environment?: NodeJS.ProcessEnv;
  /** More observers of every request (tests). */
  observers?: RequestObserver[];
  shell?: ShellHooks;
  /** Provider keys: the OS keychain (secrets/keychain.ts openProviderKeyStore); in memory when not given (tests). */
  providerKeys?: ProviderKeyManager;
  /** Default: storage's SqliteGatewayKeyManager on the request log's database (hashed keys that survive restarts). */
  gatewayKeys?: GatewayKeyManager;
  /**
   * A team's PostgreSQL (`serve --database-url`): the request log, gateway keys and every
   * read of them live there instead of SQLite in the data folder. The caller opened it and closes it.
   */
  store?: TeamStore;
  /** The analytics worker's script when not beside the bundle. */
  analyticsWorkerUrl?: URL;
  /** Node flags for the analytics worker (the desktop shell loads its native-module hook this way). */
  analyticsExecArgv?: string[];
  /** `serve --redis-url` (else SWITCHYARD_REDIS_URL): limits, cache and breakers shared through Redis. Headless only. */
  redisUrl?: string;
}

export interface Application {
  config: GatewayConfig;
  secrets: SecretStore;
  auth: AppGatewayAuth;
  observers: RequestObserver[];
  /** Circuit breakers and concurrency gates: given to the gateway, read by the services. */
  reliability: Reliability;
  /** The gateway's pipeline policies (limits and budgets, the response cache). */
  policies: Policy[];
  /** Stored Responses answers, for previous_response_id and GET /v1/responses/{id}. */
  responses: StoredResponses;
  services: OperationHandlers;
  events: EventHub;
  context: ServiceContext;
  /** Called by the starter once the gateway listens (or failed to). */
  gatewayStarted(origin: string, catalog: ModelCatalog): void;
  gatewayStopped(error: string | null): void;
  close(): Promise<void>;
}

export function createApplication(options: ApplicationOptions): Application {
  const environment = options.environment ?? process.env;
  const settings = new SettingsStore(options.dataDirectory);
  const defaults = loadConfig({ file: options.configFile, environment, overrides: options.overrides });
  const config = loadConfig({ file: settings.mergeInto(options.configFile), environment, overrides: options.overrides });
  const defaultBaseUrls = new Map(defaults.providers.map((provider) => [provider.id, provider.baseUrl]));
  // The desktop app keeps its state in process; only `serve` shares it through Redis.
  const redisUrl = options.mode === 'headless' ? (options.redisUrl ?? environment.SWITCHYARD_REDIS_URL)?.trim() || null : null;
  const redisProblem = redisUrl ? validateRedisUrl(redisUrl) : null;
  if (redisProblem) throw new ConfigError(`${options.redisUrl ? '--redis-url' : 'SWITCHYARD_REDIS_URL'}: ${redisProblem}`);
  const redisCommandTimeoutMs = redisUrl ? redisTimeout(environment.SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS) : undefined;

  const priceOverrides = priceOverridesOf(settings.get().priceOverrides);
  const retention = settings.retention();
  const team = options.store ?? null;
  const sqliteLog = team
    ? null
    : openRequestLog(options.dataDirectory, {
        priceOverrides,
        storeBodies: retention.storeBodies,
        onError: (error) => process.stderr.write(`switchyard: request log: ${error.message}\n`),
      });
  const requestLog: RequestLogSink = team?.requestLog ?? sqliteLog!;
  // Set again: an instance's settings (settings.json in its data folder) apply to what it writes.
  if (team) {
    requestLog.setPriceOverrides(priceOverrides);
    requestLog.setStoreBodies(retention.storeBodies);
  }
  const database = sqliteLog?.database ?? null;
  const reader = team?.reader ?? sqliteRequestLogReader(database!, false);
  // Responses answers are found again in the log, once it has committed the one just given
  // (PostgreSQL's store waits for that itself: it asks again for what another instance, or
  // this one, has not committed yet).
  const responses = team?.responses ?? afterCommit(sqliteStoredResponses(database!), requestLog);
  let priceBook: PriceBook = createPriceBook(priceOverrides);

  const environmentSecrets = new EnvironmentSecretStore(config.providers, environment);
  const providerKeys = options.providerKeys ?? new MemoryProviderKeyManager();
  const ownGatewayKeys =
    options.gatewayKeys || team ? null : new SqliteGatewayKeyManager(database!, { onError: (message) => process.stderr.write(`switchyard: ${message}\n`) });
  const gatewayKeys: GatewayKeyManager = options.gatewayKeys ?? team?.gatewayKeys ?? (ownGatewayKeys as GatewayKeyManager);
  const secrets = new LayeredSecretStore([providerKeys, environmentSecrets]);
  const auth = new AppGatewayAuth(gatewayKeys, environment.SWITCHYARD_API_KEY);
  // The desktop app's first start makes a first gateway key, shown once by the first-run dialog.
  const firstRunKey = new FirstRunKey({
    enabled: options.mode === 'desktop',
    gatewayKeys,
    settings,
    onError: (message) => process.stderr.write(`switchyard: ${message}\n`),
  });

  let analytics: AnalyticsClient | null = null;
  const analyticsClient = (): AnalyticsClient => {
    if (team) return team.analytics;
    analytics ??= createAnalyticsClient(databasePath(options.dataDirectory), {
      ...(options.analyticsWorkerUrl ? { workerUrl: options.analyticsWorkerUrl } : {}),
      ...(options.analyticsExecArgv ? { execArgv: options.analyticsExecArgv } : {}),
    });
    return analytics;
  };

  const events = new EventHub();
  const tracker = new LiveRequestTracker({ events, priceBook: () => priceBook });
  const upstream = new UpstreamClient({ connectTimeoutMs: 5_000, connectionsPerOrigin: 4 });
  // A circuit that opens, probes or closes reaches the Providers screen (throttled, and once
  // more when an open one turns half-open); only ever called after `directory` below exists.
  const circuitNotices = new CircuitNotices({
    emit: () => events.emit('providers.changed', directory.list()),
    nextProbeAt: () => nextCircuitProbeAt(reliability),
  });
  // Chosen once, here: in process, or Redis (falling back to in process while it is unreachable).
  const sharedState = createSharedState({
    redisUrl,
    commandTimeoutMs: redisCommandTimeoutMs,
    onChange: () => statusChanged(),
    log: (message) => process.stderr.write(`switchyard: ${message}\n`),
  });
  const reliability = createReliability(config, (snapshot) => {
    circuitNotices.changed();
    sharedState.breakerChanged(snapshot);
  });
  sharedState.shareBreakers(reliability.breakers, () => config.circuitBreaker.openMs);
  const limits = new LimitsPolicy({
    rules: config.limits,
    counters: sharedState.counters,
    // The log's own cost function, so a budget counts exactly what the log stores.
    accounting: (record) => {
      const cost = costOfRecord(record as StoredRequestRecord, priceBook);
      const cacheHit = (record as StoredRequestRecord).cacheHit === true;
      return { tokens: cacheHit ? 0 : cost.usage.inputTokens + cost.usage.outputTokens, costNanoUsd: cost.costNanoUsd };
    },
    spendHistory: (match, since) => reader.spendSince(match, since),
  });
  // Always present: a request may ask for the cache with `x-switchyard-cache: on` when the config leaves it off.
  const cache = new ResponseCache(config.cache, { store: sharedState.cacheStore(config.cache) });
  // OpenTelemetry only when asked for (the config file or OTEL_EXPORTER_OTLP_*): the SDK is not even loaded otherwise.
  const telemetryConfig = resolveTelemetryConfig(config.telemetry, environment);
  let server: { address: string; port: number } | null = null;
  let serverOrigin: string | null = null;
  const telemetry = telemetryConfig.enabled
    ? new TelemetryPolicy(telemetryConfig, startTelemetry(telemetryConfig), () => {
        // The address the gateway listens on, parsed once per origin (the desktop may restart it elsewhere).
        const origin = context.runtime.origin;
        if (origin !== serverOrigin) {
          serverOrigin = origin;
          const url = origin ? new URL(origin) : null;
          server = url ? { address: url.hostname, port: Number(url.port) } : null;
        }
        return server;
      })
    : null;
  const context: ServiceContext = {
    mode: options.mode,
    version: APP_VERSION,
    dataDirectory: options.dataDirectory,
    config,
    defaultBaseUrls,
    environmentSecrets,
    providerKeys,
    gatewayKeys,
    firstRunKey,
    auth,
    database,
    sharedLog: team?.pool ?? null,
    log: reader,
    requestLog,
    analytics: analyticsClient,
    priceBook: () => priceBook,
    setPriceOverrides(overrides) {
      priceBook = createPriceBook(overrides);
      requestLog.setPriceOverrides(overrides);
    },
    tracker,
    events,
    settings,
    runtime: { origin: null, error: null, catalog: null },
    upstream,
    reliability,
    limits,
    cache,
    sharedState,
    telemetry: { config: telemetryConfig, policy: telemetry },
    shell: options.shell ?? {},
  };
  const directory = new ProviderDirectory(context);
  const services = createAppServices(context, directory);
  // Keys changed in the keychain (here, or by `switchyard keys` in another process) reach the UI and the model lists.
  const keyStore = providerKeys as Partial<ProviderKeyStore>;
  const stopWatchingKeys = keyStore.onChange?.((providers) => {
    for (const provider of providers) context.runtime.catalog?.invalidate(provider);
    events.emit('providers.changed', directory.list());
  });
  // `switchyard keys set|delete` in another process tells this one, and waits until the keychain is read again.
  const notices: NoticeListener | null =
    keyStore.available && keyStore.service && keyStore.refresh
      ? listenForKeyNotices({
          service: keyStore.service,
          onProviderKeysChanged: () => keyStore.refresh!(),
          environment,
          onError: (message) => process.stderr.write(`switchyard: ${message}\n`),
        })
      : null;
  // A change made after the keychain's first read but before the listener was there is caught by one more read.
  void notices?.ready.then((listening) => (listening ? keyStore.refresh?.() : undefined));
  const observers: RequestObserver[] = [requestLog.observer, tracker, ...(options.observers ?? [])];

  const timers: NodeJS.Timeout[] = [];
  const retentionSoon = setTimeout(() => void safely(() => runRetention(context)), 5_000);
  const retentionLater = setInterval(() => void safely(() => runRetention(context)), RETENTION_INTERVAL_MS);
  timers.push(retentionSoon, retentionLater);
  for (const timer of timers) timer.unref();

  const statusChanged = (): void => events.emit('gateway.status-changed', gatewayStatus(context));
  let closed = false;
  return {
    config,
    secrets,
    auth,
    observers,
    reliability,
    // Limits first: a cached answer is still a request the limits count (at no cost).
    policies: telemetry ? [telemetry, limits, cache] : [limits, cache],
    responses,
    services,
    events,
    context,
    gatewayStarted(origin, catalog) {
      context.runtime.origin = origin;
      context.runtime.error = null;
      context.runtime.catalog = catalog;
      statusChanged();
      void directory.detectLocal().then((changed) => {
        if (changed) events.emit('providers.changed', directory.list());
      });
    },
    gatewayStopped(error) {
      context.runtime.origin = null;
      context.runtime.error = error;
      context.runtime.catalog = null;
      statusChanged();
    },
    async close() {
      if (closed) return;
      closed = true;
      await firstRunKey.ready();
      for (const timer of timers) clearTimeout(timer);
      circuitNotices.close();
      stopWatchingKeys?.();
      await notices?.close();
      keyStore.close?.();
      ownGatewayKeys?.close();
      await analytics?.close();
      await upstream.close();
      // A team store is its opener's to close (after the gateway stopped writing into it).
      await sqliteLog?.close();
      await telemetry?.shutdown();
      await sharedState.close();
    },
  };
}

/** SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS: how long a Redis command may take before the instance falls back (default 500). */
function redisTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) throw new ConfigError(`SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS must be a whole number of milliseconds from 1 to 60000, got "${value}"`);
  return ms;
}

async function safely(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    process.stderr.write(`switchyard: retention failed: ${(error as Error).message}\n`);
  }
}
