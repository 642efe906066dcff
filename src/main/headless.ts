/**
 * Starts the gateway for the CLI and the Electron shell alike: configuration from flags,
 * the config file, the app's settings and the environment; storage, keys and services
 * (services/application.ts); the admin API and UI when asked; listen; report.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { registerAdmin } from './admin/admin-routes.js';
import { readConfigFile, type GatewayConfig } from './gateway/config.js';
import type { RequestObserver } from './gateway/context.js';
import { buildGateway } from './gateway/server.js';
import type { SecretStore } from './secrets/secret-store.js';
import { createApplication, type Application } from './services/application.js';
import { describeProviderKeyStore, openProviderKeyStore } from './secrets/keychain.js';
import type { ProviderKeyManager } from './services/key-managers.js';
import { priceOverridesOf } from './services/settings-service.js';
import { SETTINGS_FILE_NAME, SettingsStore } from './services/settings-store.js';
import { openTeamStore, type TeamStore } from './storage/postgres/team-store.js';
import { applyRuntimeV8Flags } from './v8-runtime-flags.js';

export interface StartOptions {
  host?: string;
  port?: number;
  dataDir: string;
  configFile?: string;
  auth?: boolean;
  environment?: NodeJS.ProcessEnv;
  observers?: RequestObserver[];
  /** An application already built (the desktop shell builds it once and may start the gateway twice). */
  application?: Application;
  /** Serve the admin API and the UI at /ui with this token. */
  admin?: { token: string; rendererDir: string | null };
  /** Provider keys (default: the OS keychain, or environment keys only when there is none). Tests pass an in-memory one. */
  providerKeys?: ProviderKeyManager;
  /**
   * A team's PostgreSQL (postgres://…, already checked by storage/postgres/team-store.ts
   * databaseUrlFrom): the request log and gateway keys live there; null or absent: SQLite
   * in the data folder. Ignored when `application` is given.
   */
  databaseUrl?: string | null;
  /** `--redis-url` (else SWITCHYARD_REDIS_URL from the environment). */
  redisUrl?: string;
}

export interface RunningGateway {
  app: FastifyInstance;
  config: GatewayConfig;
  secrets: SecretStore;
  application: Application;
  /** `http://host:port` with the port actually bound. */
  origin: string;
  /** Where provider keys come from, one line for the user (null when the caller brought the application). */
  keySourceDescription: string | null;
  /** The team's PostgreSQL (password hidden) when the log is there, else null. */
  databaseDescription: string | null;
  /** Requests written to PostgreSQL from this instance's journal at start (after a kill), else 0. */
  journalReplayed: number;
  close(): Promise<void>;
}

const REDIS_START_WAIT_MS = 2_000;

export function formatOrigin(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  applyRuntimeV8Flags();
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const ownsApplication = options.application === undefined;
  // Provider keys: the OS keychain when there is one, else the environment only (said once, at start).
  const keyStore = options.application || options.providerKeys ? null : await openProviderKeyStore({ environment: options.environment ?? process.env });
  // The store, chosen once: a team's PostgreSQL when a URL is given, else SQLite in the data folder.
  let team: TeamStore | null = null;
  if (ownsApplication && options.databaseUrl) {
    const stored = SettingsStore.read(join(options.dataDir, SETTINGS_FILE_NAME));
    team = await openTeamStore(options.databaseUrl, options.dataDir, { priceOverrides: priceOverridesOf(stored.priceOverrides) });
  }
  let application: Application;
  try {
    application =
      options.application ??
      createApplication({
        store: team ?? undefined,
        providerKeys: options.providerKeys ?? keyStore ?? undefined,
        dataDirectory: options.dataDir,
        mode: 'headless',
        configFile: options.configFile ? readConfigFile(options.configFile) : undefined,
        overrides: { host: options.host, port: options.port, auth: options.auth },
        environment: options.environment,
        observers: options.observers,
        redisUrl: options.redisUrl,
      });
  } catch (error) {
    await team?.close();
    throw error;
  }
  const { config, secrets, auth } = application;
  let app: FastifyInstance | null = null;
  try {
    // Redis, when configured, gets a moment to connect; a gateway starts without it (and says so) all the same.
    await application.context.sharedState.ready(REDIS_START_WAIT_MS);
    // The application's breakers and gates, so the services (Providers screen, admin API) see the live state.
    app = buildGateway({ config, auth, secrets, observers: application.observers, reliability: application.reliability, policies: application.policies, responses: application.responses });
    if (options.admin) registerAdmin(app, { services: application.services, events: application.events, token: options.admin.token, rendererDir: options.admin.rendererDir });
    await app.listen({ host: config.host, port: options.port ?? config.port });
  } catch (error) {
    // Nothing started may be left running: the request log's writer, timers, the database.
    await app?.close();
    if (ownsApplication) await application.close();
    await team?.close();
    throw error;
  }
  const gateway = app;
  const address = gateway.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const origin = formatOrigin(config.host, port);
  application.gatewayStarted(origin, gateway.gateway.catalog);
  return {
    app: gateway,
    config,
    secrets,
    application,
    origin,
    keySourceDescription: keyStore ? describeProviderKeyStore(keyStore) : null,
    databaseDescription: team?.description ?? null,
    journalReplayed: team?.requestLog.replayed ?? 0,
    close: async () => {
      try {
        await gateway.close();
      } finally {
        application.gatewayStopped(null);
        if (ownsApplication) await application.close();
        await team?.close();
      }
    },
  };
}
