/**
 * Starts the gateway for the CLI and the Electron shell alike: configuration from flags,
 * the config file and the environment; keys from the environment; listen; report.
 */
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { environmentKeyAuth } from './gateway/access.js';
import { loadConfig, readConfigFile, type GatewayConfig } from './gateway/config.js';
import type { RequestObserver } from './gateway/context.js';
import { buildGateway } from './gateway/server.js';
import { EnvironmentSecretStore, type SecretStore } from './secrets/secret-store.js';

export interface StartOptions {
  host?: string;
  port?: number;
  dataDir: string;
  configFile?: string;
  auth?: boolean;
  environment?: NodeJS.ProcessEnv;
  observers?: RequestObserver[];
}

export interface RunningGateway {
  app: FastifyInstance;
  config: GatewayConfig;
  secrets: SecretStore;
  /** `http://host:port` with the port actually bound. */
  origin: string;
  close(): Promise<void>;
}

export function formatOrigin(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const environment = options.environment ?? process.env;
  const file = options.configFile ? readConfigFile(options.configFile) : undefined;
  const config = loadConfig({ file, environment, overrides: { host: options.host, port: options.port, auth: options.auth } });
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const secrets = new EnvironmentSecretStore(config.providers, environment);
  const auth = environmentKeyAuth(environment);
  const app = buildGateway({ config, auth, secrets, observers: options.observers });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    app,
    config,
    secrets,
    origin: formatOrigin(config.host, port),
    close: () => app.close(),
  };
}
