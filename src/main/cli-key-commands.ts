/**
 * `switchyard keys …` (provider keys in the OS keychain) and `switchyard gateway-keys …`
 * (the keys clients send). A running gateway uses what these change from its very next
 * request: `keys set|delete` tell every running gateway that reads the same keychain
 * service and wait until it has read the keychain again (secrets/key-change-notices.ts);
 * a gateway sees `gateway-keys create|revoke` by itself (SQLite's data_version, checked
 * before each key check; storage/gateway-keys.ts).
 *
 * A provider key is never taken from the command line (it would land in the shell's
 * history and in every process listing): `keys set` reads it from standard input when
 * that is a pipe, or from a prompt that does not echo. Nothing here ever prints a whole
 * provider key; a gateway key is printed once, when it is created.
 *
 * Exit codes: 0 success; 1 a refusal or a failed check (`keys test`: invalid or missing
 * key); 2 a usage error, or `keys test` could not reach the provider.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, loadConfig, readConfigFile, type GatewayConfig, type ProviderConfig } from './gateway/config.js';
import { defaultDataDir } from './paths.js';
import { InvalidProviderKeyError, KeychainUnavailableError, openProviderKeyStore, validateProviderKey, type ProviderKeyStore } from './secrets/keychain.js';
import { KEY_TEST_EXIT_CODES, testProviderKey, type KeyTestOutcome } from './secrets/key-test.js';
import { announceProviderKeysChanged } from './secrets/key-change-notices.js';
import { redactSecrets } from './secrets/redact.js';
import { EnvironmentSecretStore, maskSecret } from './secrets/secret-store.js';
import { SettingsStore } from './services/settings-store.js';
import { databasePath, openDatabase } from './storage/database.js';
import { GatewayKeyError, SqliteGatewayKeyManager, isUsable } from './storage/gateway-keys.js';
import { describeDatabaseUrl } from './storage/postgres/connection.js';
import { PostgresGatewayKeyManager } from './storage/postgres/gateway-keys.js';
import { connectPostgres, databaseUrlFrom, StorageStartError } from './storage/postgres/team-store.js';
import { sqliteGatewayKeyStore, type GatewayKeyStore } from './storage/store.js';
import type { GatewayKeyRecord } from './services/key-managers.js';

export interface CommandIO {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
  environment: NodeJS.ProcessEnv;
  /** The provider key store (tests pass one; by default the OS keychain, or its fallback). */
  openKeyStore?: () => Promise<ProviderKeyStore>;
  now?: () => number;
}

export const KEYS_HELP = `Usage: switchyard keys <command> [flags]

Provider keys, kept in the OS keychain (service "switchyard", one entry per provider).
Precedence for each request: the x-provider-api-key header, then the keychain, then the
provider's environment variable (OPENAI_API_KEY, …).

Commands:
  set <provider>      Store a key. It is read from standard input when piped
                      (printf %s "$KEY" | switchyard keys set openai) or from a hidden
                      prompt; never from the command line.
  list                Every provider, where its key comes from (keychain, environment,
                      missing), masked.  [--json]
  delete <provider>   Remove the provider's key from the keychain.
  test <provider>     A cheap authenticated call (the model list): prints ok, invalid key
                      or unreachable; exit code 0, 1 or 2.  [--timeout SECONDS]

Flags: --config FILE (providers declared there), --data-dir D (the app's base URL settings).
A running gateway (the app or switchyard serve) uses a changed key from its next request,
without a restart: set and delete tell it, and wait until it has read the keychain again.
`;

export const GATEWAY_KEYS_HELP = `Usage: switchyard gateway-keys <command> [flags]

Gateway keys are what clients send ("Authorization: Bearer sy-…"). Only a SHA-256 digest
of each key is stored, so a key is shown once, when it is created.

Commands:
  create --name N [--tag key:value]… [--model M]… [--expires 30d|2026-12-31|ISO time]
                      Print a new key. Tags are added to every request made with it;
                      --model limits it to those models (as clients name them).
  list                Prefix, name, tags, created, last used, expiry, status.  [--json]
  revoke <id|prefix>  Refuse the key from now on (a running gateway from its next request).

Flags: --data-dir D (default ${defaultDataDir()}), or --database-url postgres://… (or
SWITCHYARD_DATABASE_URL) for the keys several \`switchyard serve\` instances share.
`;

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
  }
}

interface FlagSpec {
  [name: string]: 'string' | 'strings' | 'boolean';
}

interface Parsed {
  flags: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/**
 * A small argument parser that never repeats an argument's value in an error (an
 * argument may be a key pasted by mistake).
 */
export function parseFlags(argv: string[], spec: FlagSpec): Parsed {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (!argument.startsWith('-') || argument === '-') {
      positionals.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    const name = (equals === -1 ? argument : argument.slice(0, equals)).replace(/^--?/, '');
    const kind = name === 'h' ? 'boolean' : spec[name];
    if (!kind || !/^[a-z][a-z-]*$/.test(name)) {
      throw new CommandError(`unknown option ${/^[a-z-]{1,30}$/i.test(name) ? `--${name}` : '(not shown)'}`);
    }
    const key = name === 'h' ? 'help' : name;
    if (kind === 'boolean') {
      if (equals !== -1) throw new CommandError(`--${name} takes no value`);
      flags[key] = true;
      continue;
    }
    let value: string;
    if (equals !== -1) value = argument.slice(equals + 1);
    else {
      if (index + 1 >= argv.length) throw new CommandError(`--${name} needs a value`);
      value = argv[++index]!;
    }
    if (kind === 'strings') flags[key] = [...((flags[key] as string[] | undefined) ?? []), value];
    else flags[key] = value;
  }
  return { flags, positionals };
}

function write(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function note(io: CommandIO, text: string): void {
  write(io.stderr, `switchyard: ${text}`);
}

// ─── configuration ─────────────────────────────────────────────────────────────────────

function configFor(flags: Parsed['flags'], io: CommandIO): GatewayConfig {
  const dataDir = resolve((flags['data-dir'] as string | undefined) ?? defaultDataDir(io.environment));
  try {
    const file = flags.config ? readConfigFile(resolve(flags.config as string)) : undefined;
    // The app's own settings (base URL overrides) apply as they do for the gateway.
    const merged = existsSync(dataDir) ? new SettingsStore(dataDir).mergeInto(file) : file;
    return loadConfig({ file: merged, environment: io.environment });
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandError(error.message);
    throw error;
  }
}

function providerOf(config: GatewayConfig, id: string | undefined, command: string): ProviderConfig {
  if (!id) throw new CommandError(`keys ${command} needs a provider: one of ${config.providers.map((provider) => provider.id).join(', ')}`);
  const provider = config.providers.find((candidate) => candidate.id === id);
  if (!provider) {
    const shown = /^[a-z0-9][a-z0-9_-]{0,63}$/.test(id) ? `"${id}"` : 'that provider';
    throw new CommandError(
      `unknown provider ${shown}; known: ${config.providers.map((candidate) => candidate.id).join(', ')} (declare others in a config file and pass --config)`,
    );
  }
  return provider;
}

async function keyStore(io: CommandIO): Promise<ProviderKeyStore> {
  return io.openKeyStore ? io.openKeyStore() : openProviderKeyStore({ refreshIntervalMs: 0, environment: io.environment });
}

/** Tells running gateways that read this keychain service that a key changed; says what came of it. */
async function tellRunningGateways(io: CommandIO, store: ProviderKeyStore, effect: string): Promise<void> {
  if (!store.service) return;
  const outcomes = await announceProviderKeysChanged({ service: store.service, environment: io.environment });
  const confirmed = outcomes.filter((outcome) => outcome.confirmed).map((outcome) => outcome.pid);
  if (outcomes.length === 0) write(io.stdout, 'switchyard: no running gateway to tell (a gateway reads the keychain when it starts).');
  else if (confirmed.length > 0) write(io.stdout, `switchyard: the running gateway${confirmed.length > 1 ? 's' : ''} (pid ${confirmed.join(', ')}) ${effect}.`);
  for (const outcome of outcomes.filter((candidate) => !candidate.confirmed)) {
    note(io, `could not tell the running gateway (pid ${outcome.pid}) at once (${outcome.error}); it reads the keychain again within a few seconds.`);
  }
}

// ─── reading a key without echoing it ──────────────────────────────────────────────────

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.length > 64 * 1024) throw new CommandError('standard input holds more than 64 KiB; a key is much shorter', 1);
  }
  return text;
}

/** Reads one line from a terminal without echoing it (raw mode), handling backspace, Ctrl-C and pasted text. */
function readHidden(io: CommandIO, prompt: string): Promise<string> {
  const stdin = io.stdin;
  return new Promise((resolvePromise, reject) => {
    let value = '';
    let escape = false;
    io.stderr.write(prompt);
    const finish = (error: Error | null): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolvePromise(value);
    };
    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const character of text) {
        if (escape) {
          // Skip escape sequences (arrow keys, bracketed-paste markers) up to their final letter or "~".
          if (/[A-Za-z~]/.test(character)) escape = false;
          continue;
        }
        if (character === '\u001b') escape = true;
        else if (character === '\r' || character === '\n') return finish(null);
        else if (character === '\u0003') return finish(new CommandError('cancelled', 130));
        else if (character === '\u0004') return finish(value.length === 0 ? new CommandError('cancelled', 130) : null);
        else if (character === '\u007f' || character === '\b') value = value.slice(0, -1);
        else if (character >= ' ') value += character;
      }
    };
    stdin.setRawMode?.(true);
    stdin.setEncoding?.('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readKey(io: CommandIO, provider: ProviderConfig): Promise<string> {
  if (io.stdin.isTTY) return readHidden(io, `API key for ${provider.name} (input hidden): `);
  return readAll(io.stdin);
}

// ─── keys ──────────────────────────────────────────────────────────────────────────────

const KEYS_FLAGS: FlagSpec = { config: 'string', 'data-dir': 'string', json: 'boolean', timeout: 'string', help: 'boolean' };

export async function runKeys(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  return run(io, async () => {
    const [command, ...rest] = argv;
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout.write(KEYS_HELP);
      return 0;
    }
    const { flags, positionals } = parseFlags(rest, KEYS_FLAGS);
    if (flags.help) {
      io.stdout.write(KEYS_HELP);
      return 0;
    }
    switch (command) {
      case 'set':
        return keysSet(io, flags, positionals);
      case 'list':
        if (positionals.length > 0) throw new CommandError('keys list takes no arguments');
        return keysList(io, flags);
      case 'delete':
      case 'remove':
        return keysDelete(io, flags, positionals);
      case 'test':
        return keysTest(io, flags, positionals);
      default:
        throw new CommandError(`unknown keys command "${command.slice(0, 30)}"\n\n${KEYS_HELP}`);
    }
  });
}

async function keysSet(io: CommandIO, flags: Parsed['flags'], positionals: string[]): Promise<number> {
  if (positionals.length > 1) {
    throw new CommandError(
      'keys set takes only the provider: the key is read from standard input or a hidden prompt, never from the command line, where it would be kept in your shell history and shown to every program listing processes. Use: printf %s "$KEY" | switchyard keys set <provider>',
    );
  }
  const config = configFor(flags, io);
  const provider = providerOf(config, positionals[0], 'set');
  const store = await keyStore(io);
  try {
    if (!store.available) throw new CommandError(`cannot store the key: ${store.reason}. Set ${provider.apiKeyEnv ?? 'the provider\'s environment variable'} instead.`, 1);
    const input = await readKey(io, provider);
    let key: string;
    try {
      key = validateProviderKey(provider.id, input);
    } catch (error) {
      if (error instanceof InvalidProviderKeyError) throw new CommandError(`${error.message}${input.trim().length === 0 && !io.stdin.isTTY ? ' Pipe the key in: printf %s "$KEY" | switchyard keys set ' + provider.id : ''}`, 1);
      throw error;
    }
    await store.set(provider.id, key);
    write(io.stdout, `switchyard: stored the ${provider.name} key (${maskSecret(key)}) in the OS keychain.`);
    await tellRunningGateways(io, store, 'uses it from its next request');
    if (provider.apiKeyEnv && io.environment[provider.apiKeyEnv]) note(io, `${provider.apiKeyEnv} is also set; the keychain key takes precedence over it.`);
    return 0;
  } finally {
    store.close();
  }
}

type KeySource = 'keychain' | 'environment' | 'missing' | 'not needed';

interface KeyListing {
  provider: string;
  name: string;
  source: KeySource;
  maskedKey: string | null;
  environmentVariable: string | null;
  configured: boolean;
}

async function keysList(io: CommandIO, flags: Parsed['flags']): Promise<number> {
  const config = configFor(flags, io);
  const store = await keyStore(io);
  try {
    const environment = new EnvironmentSecretStore(config.providers, io.environment);
    const listings: KeyListing[] = config.providers.map((provider) => {
      const stored = store.get(provider.id);
      const fromEnvironment = stored ? null : environment.get(provider.id);
      const key = stored ?? fromEnvironment;
      return {
        provider: provider.id,
        name: provider.name,
        source: stored ? 'keychain' : fromEnvironment ? 'environment' : provider.requiresKey ? 'missing' : 'not needed',
        maskedKey: key ? maskSecret(key) : null,
        environmentVariable: provider.apiKeyEnv,
        configured: true,
      };
    });
    for (const account of await store.list()) {
      if (listings.some((listing) => listing.provider === account)) continue;
      listings.push({ provider: account, name: account, source: 'keychain', maskedKey: maskSecret(store.get(account) ?? ''), environmentVariable: null, configured: false });
    }
    if (flags.json) {
      write(io.stdout, JSON.stringify({ keychain: { available: store.available, reason: store.reason }, providers: listings }, null, 2));
      return 0;
    }
    if (!store.available) note(io, `${store.reason}.`);
    const rows = listings.map((listing) => [
      listing.provider,
      listing.source,
      listing.maskedKey ?? '-',
      listing.source === 'environment'
        ? `from ${listing.environmentVariable}`
        : listing.source === 'missing'
          ? `switchyard keys set ${listing.provider}${listing.environmentVariable ? ` or ${listing.environmentVariable}` : ''}`
          : listing.configured
            ? ''
            : 'not a configured provider (pass --config?)',
    ]);
    write(io.stdout, table(['PROVIDER', 'SOURCE', 'KEY', ''], rows));
    return 0;
  } finally {
    store.close();
  }
}

async function keysDelete(io: CommandIO, flags: Parsed['flags'], positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new CommandError('keys delete takes one provider');
  const id = positionals[0]!;
  const store = await keyStore(io);
  try {
    if (!store.available) throw new CommandError(`cannot delete the key: ${store.reason}.`, 1);
    // A key stored for a provider no longer configured can still be deleted.
    const config = configFor(flags, io);
    const provider = config.providers.find((candidate) => candidate.id === id) ?? null;
    if (!provider && !store.has(id)) providerOf(config, id, 'delete');
    const name = provider?.name ?? id;
    if (!store.has(id)) {
      write(io.stdout, `switchyard: no ${name} key in the OS keychain; nothing to delete.`);
    } else {
      await store.delete(id);
      write(io.stdout, `switchyard: deleted the ${name} key from the OS keychain.`);
      await tellRunningGateways(io, store, 'stops using it from its next request');
    }
    if (provider?.apiKeyEnv && io.environment[provider.apiKeyEnv]) note(io, `${provider.apiKeyEnv} is still set and is used instead.`);
    return 0;
  } finally {
    store.close();
  }
}

async function keysTest(io: CommandIO, flags: Parsed['flags'], positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new CommandError('keys test takes one provider');
  const config = configFor(flags, io);
  const provider = providerOf(config, positionals[0], 'test');
  let timeoutMs = 10_000;
  if (flags.timeout !== undefined) {
    const seconds = Number(flags.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw new CommandError('--timeout must be a number of seconds between 0 and 600');
    timeoutMs = Math.round(seconds * 1000);
  }
  const store = await keyStore(io);
  let key: string | null;
  let from: string;
  try {
    if (!store.available) note(io, `${store.reason}.`);
    const stored = store.get(provider.id);
    const fromEnvironment = stored ? null : new EnvironmentSecretStore([provider], io.environment).get(provider.id);
    key = stored ?? fromEnvironment;
    from = stored ? 'the keychain' : fromEnvironment ? `${provider.apiKeyEnv}` : 'no key';
  } finally {
    store.close();
  }
  if (provider.requiresKey && !key) {
    write(io.stdout, `invalid key: no ${provider.name} key is set; store one with \`switchyard keys set ${provider.id}\`${provider.apiKeyEnv ? ` or set ${provider.apiKeyEnv}` : ''}.`);
    return KEY_TEST_EXIT_CODES['invalid key'];
  }
  const result = await testProviderKey(provider, key, { timeoutMs });
  const which = key ? `the key from ${from} (${maskSecret(key)})` : 'the request without a key';
  const lines: Record<KeyTestOutcome, string> = {
    ok: `ok: ${provider.name} ${key ? `accepted ${which}` : 'answered'}: ${result.message} in ${result.latencyMs} ms`,
    'invalid key': `invalid key: ${provider.name} refused ${which} (${result.message})`,
    unreachable: `unreachable: ${provider.name} at ${provider.baseUrl} did not answer usefully: ${result.message}`,
    error: `error: ${provider.name} answered, but not with a model list: ${result.message}`,
  };
  write(io.stdout, redactSecrets(lines[result.outcome], [key]));
  return KEY_TEST_EXIT_CODES[result.outcome];
}

// ─── gateway-keys ──────────────────────────────────────────────────────────────────────

const GATEWAY_KEYS_FLAGS: FlagSpec = { 'data-dir': 'string', 'database-url': 'string', name: 'string', tag: 'strings', model: 'strings', expires: 'string', json: 'boolean', help: 'boolean' };

/** `30d`, `12h`, `90m`, `2w`, `1y` from now; an ISO date or date-time; or epoch milliseconds. Must be in the future. */
export function parseExpiry(value: string, now: number): number {
  const relative = /^(\d+)\s*(m|h|d|w|y)$/i.exec(value.trim());
  let at: number;
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 }[relative[2]!.toLowerCase() as 'm' | 'h' | 'd' | 'w' | 'y'];
    at = now + Number(relative[1]) * unit;
  } else if (/^\d{10,}$/.test(value.trim())) {
    at = Number(value.trim());
  } else {
    at = Date.parse(value.trim());
    if (Number.isNaN(at)) throw new CommandError(`--expires must be a span (30d, 12h, 2w), a date (2026-12-31) or an ISO date-time; got "${value.slice(0, 40)}"`);
  }
  if (at <= now) throw new CommandError('--expires must be in the future');
  return at;
}

export function parseTagFlag(value: string): { key: string; value: string } {
  const colon = value.indexOf(':');
  const key = (colon === -1 ? value : value.slice(0, colon)).trim();
  if (key.length === 0) throw new CommandError(`--tag takes key:value; got "${value.slice(0, 60)}"`);
  return { key, value: colon === -1 ? '' : value.slice(colon + 1).trim() };
}

/**
 * The keys' store: a team's PostgreSQL with --database-url / SWITCHYARD_DATABASE_URL,
 * else the data folder's SQLite (null when there is none and `create` is false).
 */
async function openKeyStore(flags: Parsed['flags'], io: CommandIO, create: boolean): Promise<{ where: string; store: GatewayKeyStore | null; close(): Promise<void> }> {
  const url = databaseUrlFrom(flags['database-url'] as string | undefined, io.environment);
  if (url) {
    const pool = await connectPostgres(url, { max: 2 });
    const store = await PostgresGatewayKeyManager.open(pool, { flushIntervalMs: 0, hasKeysRefreshMs: 0 });
    return {
      where: describeDatabaseUrl(url),
      store,
      close: async () => {
        await store.close();
        await pool.end();
      },
    };
  }
  const dataDir = resolve((flags['data-dir'] as string | undefined) ?? defaultDataDir(io.environment));
  if (!create && !existsSync(databasePath(dataDir))) return { where: dataDir, store: null, close: async () => {} };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const database = openDatabase(dataDir);
  const store = sqliteGatewayKeyStore(new SqliteGatewayKeyManager(database, { refreshIntervalMs: 0, flushIntervalMs: 0 }), () => database.close());
  return { where: dataDir, store, close: async () => store.close() };
}

export async function runGatewayKeys(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  return run(io, async () => {
    const [command, ...rest] = argv;
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout.write(GATEWAY_KEYS_HELP);
      return 0;
    }
    const { flags, positionals } = parseFlags(rest, GATEWAY_KEYS_FLAGS);
    if (flags.help) {
      io.stdout.write(GATEWAY_KEYS_HELP);
      return 0;
    }
    const now = (io.now ?? Date.now)();
    switch (command) {
      case 'create': {
        if (positionals.length > 0) throw new CommandError('gateway-keys create takes flags only: --name N [--tag key:value]… [--model M]… [--expires 30d]');
        if (typeof flags.name !== 'string' || flags.name.trim().length === 0) throw new CommandError('gateway-keys create needs --name (the tool or person the key is for)');
        const tags = ((flags.tag as string[] | undefined) ?? []).map(parseTagFlag);
        const models = ((flags.model as string[] | undefined) ?? []).flatMap((model) => model.split(',')).map((model) => model.trim()).filter(Boolean);
        const expiresAt = typeof flags.expires === 'string' ? parseExpiry(flags.expires, now) : null;
        const { store, close } = await openKeyStore(flags, io, true);
        try {
          const { key, record } = await store!.create({ name: flags.name, tags, allowedModels: models, expiresAt });
          note(io, `created gateway key "${record.name}" (id ${record.id}, prefix ${record.prefix})`);
          note(io, `  tags: ${formatTags(record) || 'none'}; models: ${record.allowedModels?.join(', ') ?? 'all'}; expires: ${record.expiresAt ? formatTime(record.expiresAt) : 'never'}`);
          write(io.stdout, key);
          note(io, 'copy the key now: you will not see it again (only its SHA-256 digest is stored). Clients send it as "Authorization: Bearer <key>".');
          return 0;
        } finally {
          await close();
        }
      }
      case 'list': {
        if (positionals.length > 0) throw new CommandError('gateway-keys list takes no arguments');
        const { where, store, close } = await openKeyStore(flags, io, false);
        if (!store) {
          if (flags.json) write(io.stdout, '[]');
          else write(io.stdout, `no gateway keys (no Switchyard data in ${where})`);
          return 0;
        }
        try {
          const records = await store.list();
          if (flags.json) {
            write(io.stdout, JSON.stringify(records.map((record) => ({ ...record, status: statusOf(record, now) })), null, 2));
          } else if (records.length === 0) {
            write(io.stdout, 'no gateway keys yet; create one with: switchyard gateway-keys create --name <tool>');
          } else {
            const rows = records.map((record) => [
              record.id.slice(0, 8),
              `${record.prefix}…`,
              record.name,
              formatTags(record) || '-',
              record.allowedModels?.join(',') ?? 'all',
              formatTime(record.createdAt),
              record.lastUsedAt ? formatTime(record.lastUsedAt) : 'never',
              record.expiresAt ? formatTime(record.expiresAt) : 'never',
              statusOf(record, now),
            ]);
            write(io.stdout, table(['ID', 'PREFIX', 'NAME', 'TAGS', 'MODELS', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS'], rows));
          }
          return 0;
        } finally {
          await close();
        }
      }
      case 'revoke': {
        if (positionals.length !== 1) throw new CommandError('gateway-keys revoke takes one key: its id, the start of its id, or its prefix (sy-…)');
        const { where, store, close } = await openKeyStore(flags, io, false);
        if (!store) throw new CommandError(`no gateway keys (no Switchyard data in ${where})`, 1);
        try {
          const record = await store.find(positionals[0]!);
          if (!record) throw new CommandError(`no gateway key matches "${positionals[0]!.slice(0, 60)}"; see switchyard gateway-keys list`, 1);
          if (record.revokedAt !== null) {
            write(io.stdout, `switchyard: "${record.name}" (${record.prefix}…) was already revoked on ${formatTime(record.revokedAt)}.`);
            return 0;
          }
          await store.revokeKey(record.id);
          write(io.stdout, `switchyard: revoked "${record.name}" (${record.prefix}…); a running gateway refuses it from its next request.`);
          return 0;
        } finally {
          await close();
        }
      }
      default:
        throw new CommandError(`unknown gateway-keys command "${command.slice(0, 30)}"\n\n${GATEWAY_KEYS_HELP}`);
    }
  });
}

function statusOf(record: GatewayKeyRecord, now: number): string {
  if (record.revokedAt !== null) return 'revoked';
  if (!isUsable(record, now)) return 'expired';
  return 'active';
}

function formatTags(record: GatewayKeyRecord): string {
  return record.tags.map((tag) => (tag.value ? `${tag.key}:${tag.value}` : tag.key)).join(', ');
}

function formatTime(at: number): string {
  const date = new Date(at);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function table(headings: string[], rows: string[][]): string {
  const widths = headings.map((heading, column) => Math.max(heading.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(headings), ...rows.map(line)].join('\n');
}

// ─── plumbing ──────────────────────────────────────────────────────────────────────────

function defaultIO(): CommandIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, environment: process.env };
}

async function run(io: CommandIO, action: () => Promise<number>): Promise<number> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof CommandError) {
      note(io, error.message);
      return error.exitCode;
    }
    if (error instanceof KeychainUnavailableError || error instanceof InvalidProviderKeyError || error instanceof GatewayKeyError || error instanceof StorageStartError) {
      note(io, error.message);
      return 1;
    }
    // Anything else (a keychain or database failure): say what, never a key.
    note(io, redactSecrets((error as Error)?.message ?? String(error)));
    return 1;
  }
}
