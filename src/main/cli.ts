#!/usr/bin/env node
/**
 * The headless entry: `switchyard serve | help | version`. Everything the desktop app does
 * without a window starts here.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError, DEFAULT_HOST, DEFAULT_PORT } from './gateway/config.js';
import { adminTokenFromEnvironment, adminUiUrl } from './admin/admin-token.js';
import { findRendererDirectory, UI_NOT_BUILT_MESSAGE } from './admin/renderer-location.js';
import { startGateway } from './headless.js';
import { defaultDataDir } from './paths.js';
import { runExport, runUsage, UsageError } from './cli-log-commands.js';
import { runGatewayKeys, runKeys } from './cli-key-commands.js';
import { databaseUrlFrom, StorageStartError } from './storage/postgres/team-store.js';
import { announceListening } from './startup-ready.js';
import { startMemoryReport } from './memory-report.js';

const VERSION = '0.1.0';

const HELP = `Switchyard ${VERSION} — a local AI gateway with one OpenAI-compatible API for every model.

Usage: switchyard <command> [flags]

Commands:
  serve       Run the gateway without a window.
  export      Print the request log: --format jsonl|csv [--since T] [--until T] [--data-dir D | --database-url U]
  usage       Print a usage table: --by model|provider|tag|user|day [--since T] [--until T] [--data-dir D | --database-url U]
              (T: 2026-11-01, an ISO date-time, epoch ms, or a span such as 24h or 7d)
  keys        Provider keys in the OS keychain: set|list|delete|test <provider> (switchyard keys help)
  gateway-keys  Keys clients send: create --name N|list|revoke <id> (switchyard gateway-keys help)
  help        Show this help.
  version     Print the version.

serve flags:
  --host H          Address to listen on (default ${DEFAULT_HOST}).
  --port P          Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one).
  --data-dir D      Folder for Switchyard's data (default ${defaultDataDir()}).
  --config FILE     JSON config file: providers, aliases, allowed hosts and origins.
  --database-url U  A team's PostgreSQL (postgres://user:password@host:5432/db) for the request
                    log and gateway keys, shared by several instances (default: SQLite in --data-dir).
  --no-auth         Accept requests without a gateway key (not recommended).
  --redis-url URL   Share limits, budgets, the response cache and circuit breakers with other
                    instances through Redis (redis://host:6379; default SWITCHYARD_REDIS_URL).

Environment:
  SWITCHYARD_API_KEY                  The gateway key clients must send (Authorization: Bearer …).
  SWITCHYARD_DATABASE_URL             Same as --database-url (for serve, export, usage, gateway-keys).
  SWITCHYARD_REDIS_URL                redis://… shared by several serve instances (see --redis-url).
  SWITCHYARD_ADMIN_TOKEN              The token for the UI at /ui and the admin API, at least 16 characters (default: a new one per start).
  OPENAI_API_KEY, OPENAI_BASE_URL     OpenAI (base URL includes /v1).
  XAI_API_KEY, XAI_BASE_URL           xAI (base URL includes /v1).
  ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, GEMINI_API_KEY, GEMINI_BASE_URL
  OLLAMA_BASE_URL, LMSTUDIO_BASE_URL  Local servers (defaults: 127.0.0.1:11434/v1 and :1234/v1).
`;

function fail(message: string): never {
  process.stderr.write(`switchyard: ${message}\n`);
  process.exit(2);
}

async function serve(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        'database-url': { type: 'string' },
        'no-auth': { type: 'boolean' },
        'redis-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0–65535, got "${values.port}"`);
  }
  const noAuth = values['no-auth'] === true;
  let databaseUrl: string | null = null;
  try {
    databaseUrl = databaseUrlFrom(values['database-url'], process.env);
  } catch (error) {
    fail((error as Error).message);
  }
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  const adminToken = adminTokenFromEnvironment(process.env, (message) => process.stderr.write(`switchyard: WARNING: ${message}\n`));
  const rendererDir = findRendererDirectory();
  let gateway;
  try {
    gateway = await startGateway({
      admin: { token: adminToken, rendererDir },
      host: values.host,
      port,
      dataDir,
      configFile: values.config ? resolve(values.config) : undefined,
      auth: noAuth ? false : undefined,
      databaseUrl,
      redisUrl: values['redis-url'],
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StorageStartError) fail(error.message);
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') fail(`port ${port ?? DEFAULT_PORT} is already in use; pick another with --port (or --port 0 for a free one)`);
    if (code === 'EACCES') fail(`not allowed to listen on ${values.host ?? DEFAULT_HOST}:${port ?? DEFAULT_PORT}`);
    throw error;
  }
  const { config, secrets } = gateway;
  startMemoryReport('main');
  // Before "listening on", which tools (and tests) wait for: all that is said about storage.
  if (gateway.databaseDescription) process.stdout.write(`switchyard: request log and gateway keys in PostgreSQL ${gateway.databaseDescription} (this instance's journal in the data folder)\n`);
  if (gateway.journalReplayed > 0) process.stdout.write(`switchyard: ${gateway.journalReplayed} answered request(s) left in the journal by the last run written to PostgreSQL\n`);
  process.stdout.write(`switchyard: listening on ${gateway.origin} — OpenAI-compatible base URL ${gateway.origin}/v1\n`);
  const providers = config.providers.map((provider) => {
    const keychainKey = gateway.application.context.providerKeys.has(provider.id);
    const state = !provider.requiresKey
      ? provider.local
        ? 'local'
        : 'no key needed'
      : keychainKey
        ? 'key from the keychain'
        : secrets.get(provider.id)
          ? `key from ${provider.apiKeyEnv}`
          : `no key (set ${provider.apiKeyEnv} or run \`switchyard keys set ${provider.id}\`)`;
    return `  ${provider.id.padEnd(10)} ${provider.baseUrl}  ${state}`;
  });
  process.stdout.write(`switchyard: data folder ${dataDir}\n`);
  process.stdout.write(`switchyard: providers\n${providers.join('\n')}\n`);
  if (gateway.keySourceDescription) process.stdout.write(`switchyard: ${gateway.keySourceDescription}\n`);
  // The token rides in the URL fragment, which browsers never send, so it stays out of logs.
  if (rendererDir) process.stdout.write(`switchyard: UI ${adminUiUrl(gateway.origin, adminToken)}\n`);
  else process.stderr.write(`switchyard: ${UI_NOT_BUILT_MESSAGE}\n`);
  if (!config.auth) {
    process.stderr.write('switchyard: WARNING: --no-auth: any program or web page that can reach this port may use your provider keys.\n');
  } else if (!process.env.SWITCHYARD_API_KEY) {
    process.stderr.write('switchyard: WARNING: SWITCHYARD_API_KEY is not set, so every /v1 request will be refused with 401 until you create a gateway key in the UI (or set SWITCHYARD_API_KEY to a secret of your choice). Send it as "Authorization: Bearer <key>".\n');
  }
  if (config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1') {
    process.stderr.write(`switchyard: note: listening on ${config.host}, not only on loopback; requests must still name an allowed Host.\n`);
  }
  announceListening(gateway.app.server);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    process.stdout.write(`switchyard: ${signal} received, shutting down\n`);
    const force = setTimeout(() => {
      process.stderr.write('switchyard: requests still running after 10 s; exiting anyway\n');
      process.exit(1);
    }, 10_000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`switchyard: error while closing: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

// A closed pipe (`switchyard serve | head`) must not crash the gateway.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'export':
    case 'usage':
      try {
        if (command === 'export') await runExport(rest);
        else await runUsage(rest);
      } catch (error) {
        if (error instanceof UsageError || error instanceof StorageStartError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail((error as Error).message);
        throw error;
      }
      return;
    case 'keys':
      process.exitCode = await runKeys(rest);
      return;
    case 'gateway-keys':
      process.exitCode = await runGatewayKeys(rest);
      return;
    case 'version':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      fail(`unknown command "${command}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`switchyard: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
