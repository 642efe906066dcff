/**
 * Provider keys in the OS keychain (keytar: Secret Service on Linux, Keychain on macOS,
 * Credential Manager on Windows), service `switchyard`, one account per provider id.
 *
 * `get()` runs per request, so it reads an in-memory copy: loaded at start, updated at
 * once by `set`/`delete` (the desktop app's own changes),
 * and read again when `switchyard keys set|delete` in another process says it changed
 * something (secrets/key-change-notices.ts: the CLI waits until the running gateway has
 * read the keychain again, so the very next request carries the new key). A timer still
 * re-reads it every few seconds off the request path (an unref'd timer; keytar works on
 * libuv's thread pool), as the fallback for other programs that edit the keychain. A
 * request reads its key once when it starts (gateway/context.ts), so a request in flight
 * keeps the key it started with and a rotation fails nothing.
 *
 * Reading never enumerates the keychain. keytar 7.9's Linux `findCredentials` dereferences
 * a NULL secret (`strdup(secret_value_get_text(NULL))` in src/keytar_posix.cc) when an item
 * it found is replaced before its secret loads: a `switchyard keys set` in another process
 * racing the refresh timer was a segfault of the whole gateway. So the accounts holding
 * keys are listed in one more entry of the service, `#providers` (a JSON array; `#` is in
 * no provider id, so it never collides), kept by `set`/`delete`, and a read is
 * `getPassword` of that entry then of each account (libsecret's lookup answers NULL safely).
 * Keys stored by a version without the index are found once, at open, with
 * `findCredentials` (nothing of this store writes then), and the index is written.
 *
 * Where no keychain can be reached (headless Linux without a Secret Service, keytar
 * missing its native build), `openProviderKeyStore()` answers with a store whose
 * `available` is false and whose `reason` says so in one sentence; the app then uses
 * environment keys only and tells the user, instead of crashing.
 *
 * Precedence of a provider key for one request: the request's `x-provider-api-key`
 * header (bring-your-own-key, used once, never stored) → the keychain → the environment
 * variable (OPENAI_API_KEY …). BYOK is read in gateway/context.ts; keychain → environment
 * is `new LayeredSecretStore([keychainStore, environmentStore])`.
 */
import type { ProviderKeyManager } from '../services/key-managers.js';

export const KEYCHAIN_SERVICE = 'switchyard';
export const DEFAULT_REFRESH_INTERVAL_MS = 2_500;
export const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MAXIMUM_KEY_LENGTH = 4096;
/** The entry listing the accounts that hold keys (not a provider id: `#` is in none). */
export const INDEX_ACCOUNT = '#providers';

/** The part of keytar used here (an interface so tests can count calls or simulate failures). */
export interface KeytarLike {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

/** A provider key store the app can hold whether or not a keychain exists. */
export interface ProviderKeyStore extends ProviderKeyManager {
  /** False when no OS keychain could be reached: keys then come from the environment only. */
  readonly available: boolean;
  /** Why the keychain is not used, as one sentence for the user; null when it is. */
  readonly reason: string | null;
  /** The keychain service the keys live under (`switchyard`); null without a keychain. */
  readonly service: string | null;
  /** Called after the stored keys changed (here or, seen by the refresh, in another process). */
  onChange(listener: (providers: string[]) => void): () => void;
  /**
   * Reads the keychain again. The read starts after the call (a read already running may
   * predate the change the caller knows of: one more is queued after it), so once this
   * resolves, what the keychain held at the call is in memory.
   */
  refresh(): Promise<void>;
  /** Stops the refresh timer. */
  close(): void;
}

export class KeychainUnavailableError extends Error {
  override name = 'KeychainUnavailableError';
  readonly code = 'keychain_unavailable';
}

export class InvalidProviderKeyError extends Error {
  override name = 'InvalidProviderKeyError';
  readonly code = 'invalid_key';
}

/** The OS keychain's name, for messages. */
export function keychainName(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

/** Checks a provider id and a key before they reach the keychain; returns the key trimmed. */
export function validateProviderKey(provider: string, key: string): string {
  if (!PROVIDER_ID.test(provider)) throw new InvalidProviderKeyError(`"${provider.slice(0, 80)}" is not a provider id (lower-case letters, digits, "-" and "_").`);
  const trimmed = key.trim();
  if (trimmed.length === 0) throw new InvalidProviderKeyError('The key is empty.');
  if (trimmed.length > MAXIMUM_KEY_LENGTH) throw new InvalidProviderKeyError(`The key is longer than ${MAXIMUM_KEY_LENGTH} characters; check what was pasted.`);
  if (/[\s\u0000-\u001f\u007f]/.test(trimmed)) throw new InvalidProviderKeyError('A key has no spaces, line breaks or control characters; check what was pasted.');
  return trimmed;
}

/** The index's accounts; null when there is no index (or it is not one: it is then rebuilt by the next write). */
function parseIndex(text: string | null): string[] | null {
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed.filter((account): account is string => typeof account === 'string' && PROVIDER_ID.test(account));
  } catch {
    // fall through
  }
  return null;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}

export interface KeychainOptions {
  service?: string;
  /** How often the keychain is read again for changes made by other processes; 0 turns it off. */
  refreshIntervalMs?: number;
  /** Told once when a refresh starts failing (and again after it recovered and fails anew). */
  onError?: (message: string) => void;
}

/** ProviderKeyManager over keytar with an in-memory copy for the per-request `get()`. */
export class KeychainProviderKeyManager implements ProviderKeyStore {
  readonly source = 'keychain';
  readonly available = true;
  readonly reason = null;
  private keys = new Map<string, string>();
  readonly service: string;
  private readonly listeners = new Set<(providers: string[]) => void>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** The read queued behind a running one, shared by every caller that arrived meanwhile. */
  private queued: Promise<void> | null = null;
  /** Bumped by every local write, so a refresh that raced with it does not undo it. */
  private generation = 0;
  private failing = false;

  private constructor(
    private readonly keytar: KeytarLike,
    private readonly options: KeychainOptions,
  ) {
    this.service = options.service ?? KEYCHAIN_SERVICE;
  }

  /** Loads every stored key once (this throws when the keychain cannot be reached) and starts the refresh timer. */
  static async open(keytar: KeytarLike, options: KeychainOptions = {}): Promise<KeychainProviderKeyManager> {
    const manager = new KeychainProviderKeyManager(keytar, options);
    manager.keys = await manager.readKeys(true);
    const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (interval > 0) {
      manager.timer = setInterval(() => void manager.refresh(), interval);
      manager.timer.unref();
    }
    return manager;
  }

  /**
   * Every stored key: the accounts of the index (and those already in memory, should a
   * concurrent writer's index have dropped one), each read with `getPassword`. Without an
   * index, at open only, the keys of an earlier version are found with `findCredentials`
   * and indexed.
   */
  private async readKeys(opening: boolean): Promise<Map<string, string>> {
    const indexed = parseIndex(await this.keytar.getPassword(this.service, INDEX_ACCOUNT));
    if (indexed === null && opening) {
      const keys = new Map<string, string>();
      for (const { account, password } of await this.keytar.findCredentials(this.service)) {
        if (typeof account === 'string' && PROVIDER_ID.test(account) && typeof password === 'string' && password.length > 0) keys.set(account, password);
      }
      if (keys.size > 0) await this.keytar.setPassword(this.service, INDEX_ACCOUNT, JSON.stringify([...keys.keys()].sort()));
      return keys;
    }
    const accounts = [...new Set([...(indexed ?? []), ...this.keys.keys()])];
    const passwords = await Promise.all(accounts.map((account) => this.keytar.getPassword(this.service, account)));
    const keys = new Map<string, string>();
    accounts.forEach((account, index) => {
      const password = passwords[index];
      if (typeof password === 'string' && password.length > 0) keys.set(account, password);
    });
    return keys;
  }

  /** Writes the index with `provider` added or removed, starting from what the keychain holds now. */
  private async writeIndex(provider: string, present: boolean): Promise<void> {
    const stored = parseIndex(await this.keytar.getPassword(this.service, INDEX_ACCOUNT));
    const accounts = new Set(stored ?? this.keys.keys());
    if (present === accounts.has(provider) && stored !== null) return;
    if (present) accounts.add(provider);
    else accounts.delete(provider);
    await this.keytar.setPassword(this.service, INDEX_ACCOUNT, JSON.stringify([...accounts].sort()));
  }

  get(providerId: string): string | null {
    return this.keys.get(providerId) ?? null;
  }

  has(provider: string): boolean {
    return this.keys.has(provider);
  }

  async list(): Promise<string[]> {
    return [...this.keys.keys()].sort();
  }

  async set(provider: string, key: string): Promise<void> {
    const value = validateProviderKey(provider, key);
    await this.keytar.setPassword(this.service, provider, value);
    await this.writeIndex(provider, true);
    this.generation += 1;
    const next = new Map(this.keys);
    next.set(provider, value);
    this.replace(next);
  }

  async delete(provider: string): Promise<void> {
    await this.keytar.deletePassword(this.service, provider);
    await this.writeIndex(provider, false);
    this.generation += 1;
    if (!this.keys.has(provider)) return;
    const next = new Map(this.keys);
    next.delete(provider);
    this.replace(next);
  }

  refresh(): Promise<void> {
    if (this.refreshing) {
      // One read at a time; callers arriving meanwhile share one more read that starts after it.
      this.queued ??= this.refreshing.then(() => {
        this.queued = null;
        return this.refresh();
      });
      return this.queued;
    }
    this.refreshing = this.readAgain().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async readAgain(): Promise<void> {
    // A local write while reading makes the snapshot unusable (it may predate the write):
    // read again, a few times at most (local writes are the user's clicks, not a stream).
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = this.generation;
      let keys: Map<string, string>;
      try {
        keys = await this.readKeys(false);
      } catch (error) {
        // Keep the keys we have: a keychain that hiccups must not take every provider down.
        if (!this.failing) this.options.onError?.(`could not read the OS keychain (${describe(error)}); keeping the keys read before`);
        this.failing = true;
        return;
      }
      this.failing = false;
      if (generation !== this.generation) continue;
      this.replace(keys);
      return;
    }
  }

  /** Swaps in a new map (never mutated afterwards, so a `get` never sees half an update). */
  private replace(next: Map<string, string>): void {
    const previous = this.keys;
    this.keys = next;
    const changed = [...new Set([...previous.keys(), ...next.keys()])].filter((provider) => previous.get(provider) !== next.get(provider)).sort();
    if (changed.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changed);
      } catch {
        // A listener's failure must not stop the others.
      }
    }
  }

  onChange(listener: (providers: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The store used when no keychain can be reached: holds nothing, refuses writes with the reason. */
export class UnavailableProviderKeyStore implements ProviderKeyStore {
  readonly source = 'keychain';
  readonly available = false;
  readonly service = null;

  constructor(readonly reason: string) {}

  get(): string | null {
    return null;
  }

  has(): boolean {
    return false;
  }

  async list(): Promise<string[]> {
    return [];
  }

  async set(): Promise<void> {
    throw new KeychainUnavailableError(`Cannot store the key: ${this.reason}. Set the provider's environment variable instead (e.g. OPENAI_API_KEY).`);
  }

  async delete(): Promise<void> {
    throw new KeychainUnavailableError(`Cannot delete the key: ${this.reason}.`);
  }

  onChange(): () => void {
    return () => {};
  }

  async refresh(): Promise<void> {}

  close(): void {}
}

export interface OpenProviderKeyStoreOptions extends KeychainOptions {
  /** keytar itself, or a stand-in (tests); loaded with a dynamic import by default. */
  keytar?: KeytarLike | (() => Promise<KeytarLike>);
  /** Give up on a keychain that does not answer the first read in this long (a locked keyring waiting on a prompt). */
  timeoutMs?: number;
  /**
   * `SWITCHYARD_KEYCHAIN=off` turns the keychain off (CI, servers);
   * `SWITCHYARD_KEYCHAIN_SERVICE` names another service than `switchyard` (tests, a second profile).
   */
  environment?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

async function importKeytar(): Promise<KeytarLike> {
  const module = (await import('keytar')) as unknown as { default?: KeytarLike } & KeytarLike;
  const keytar = module.default ?? module;
  if (typeof keytar.findCredentials !== 'function') throw new Error('keytar has no findCredentials');
  return keytar;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The keychain-backed store when an OS keychain answers, else a store with `available:
 * false` and a one-sentence `reason` ("no OS keychain (Secret Service) found: using
 * environment keys only"). Never throws.
 */
export async function openProviderKeyStore(options: OpenProviderKeyStoreOptions = {}): Promise<ProviderKeyStore> {
  const environment = options.environment ?? process.env;
  const name = keychainName(options.platform);
  const setting = (environment.SWITCHYARD_KEYCHAIN ?? '').toLowerCase();
  if (setting === 'off' || setting === '0' || setting === 'false' || setting === 'no') {
    return new UnavailableProviderKeyStore('the OS keychain is turned off (SWITCHYARD_KEYCHAIN=off): using environment keys only');
  }
  let keytar: KeytarLike;
  try {
    keytar = typeof options.keytar === 'function' ? await options.keytar() : (options.keytar ?? (await importKeytar()));
  } catch (error) {
    return new UnavailableProviderKeyStore(`no OS keychain: keytar could not be loaded (${describe(error)}): using environment keys only`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
  const service = options.service ?? (environment.SWITCHYARD_KEYCHAIN_SERVICE || KEYCHAIN_SERVICE);
  const opening = KeychainProviderKeyManager.open(keytar, { ...options, service });
  try {
    return await withTimeout(opening, timeoutMs, `it did not answer within ${Math.round(timeoutMs / 100) / 10} s; is it locked?`);
  } catch (error) {
    // Should the keychain answer after all, stop the manager nobody holds.
    opening.then((late) => late.close(), () => {});
    return new UnavailableProviderKeyStore(`no OS keychain (${name}) found: using environment keys only (${describe(error)})`);
  }
}

/** One line for the user about where provider keys come from (printed by `switchyard serve`, shown by the app). */
export function describeProviderKeyStore(store: Pick<ProviderKeyStore, 'available' | 'reason'>, platform: NodeJS.Platform = process.platform): string {
  return store.available ? `provider keys: OS keychain (${keychainName(platform)}), then environment variables` : (store.reason ?? 'no OS keychain: using environment keys only');
}
