/**
 * The keychain the tests use: the real OS keychain through keytar when one answers (under
 * `npm test`, gnome-keyring in a private D-Bus session, see scripts/test-with-keyring.sh),
 * each test file under its own service name so files running in parallel never meet and
 * the user's `switchyard` entries are never touched. When no keychain answers, tests get
 * an in-memory stand-in with the same interface, plus the fallback's `reason`, which they
 * assert on. Under scripts/test-with-keyring.sh (SWITCHYARD_TEST_KEYRING=1) a missing
 * keychain is an error, not a fallback.
 */
import { randomUUID } from 'node:crypto';
import { INDEX_ACCOUNT, openProviderKeyStore, type KeytarLike } from '../../src/main/secrets/keychain.js';

/** An in-memory keytar: the "keychain" of machines without one, and a way to simulate failures. */
export class MemoryKeytar implements KeytarLike {
  readonly entries = new Map<string, string>();
  /** `index`: reads of the accounts index, one per read of the whole keychain. */
  calls = { find: 0, get: 0, index: 0, set: 0, delete: 0 };
  /** Makes the next reads (getPassword, findCredentials) wait (to race a refresh with a write) or fail. */
  readDelayMs = 0;
  failRead: Error | null = null;

  private id(service: string, account: string): string {
    return `${service}\u0000${account}`;
  }

  async getPassword(service: string, account: string): Promise<string | null> {
    this.calls.get += 1;
    if (account === INDEX_ACCOUNT) this.calls.index += 1;
    // The value is taken when the call starts, as a keychain answering late would.
    const value = this.entries.get(this.id(service, account)) ?? null;
    if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
    if (this.failRead) throw this.failRead;
    return value;
  }

  async setPassword(service: string, account: string, password: string): Promise<void> {
    this.calls.set += 1;
    this.entries.set(this.id(service, account), password);
  }

  async deletePassword(service: string, account: string): Promise<boolean> {
    this.calls.delete += 1;
    return this.entries.delete(this.id(service, account));
  }

  async findCredentials(service: string): Promise<Array<{ account: string; password: string }>> {
    this.calls.find += 1;
    // The snapshot is taken when the call starts, as a keychain answering late would.
    const snapshot = [...this.entries].filter(([id]) => id.startsWith(`${service}\u0000`)).map(([id, password]) => ({ account: id.slice(service.length + 1), password }));
    if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
    if (this.failRead) throw this.failRead;
    return snapshot;
  }
}

export interface KeychainUnderTest {
  /** True when the real OS keychain answered. */
  real: boolean;
  /** The fallback's message when it did not. */
  reason: string | null;
  keytar: KeytarLike;
  service: string;
  cleanup(): Promise<void>;
}

/** Accounts the tests write past the store (as another program would), so not always indexed. */
const TEST_ACCOUNTS = ['openai', 'anthropic', 'gemini', 'xai', 'ollama', 'lmstudio'];

export const keyringRequired = process.env.SWITCHYARD_TEST_KEYRING === '1';

export async function keychainUnderTest(): Promise<KeychainUnderTest> {
  const service = `switchyard-test-${randomUUID().slice(0, 8)}`;
  const probe = await openProviderKeyStore({ service, refreshIntervalMs: 0, timeoutMs: 8_000 });
  probe.close();
  if (keyringRequired && !probe.available) throw new Error(`scripts/test-with-keyring.sh started a Secret Service, but keytar cannot use it: ${probe.reason}`);
  let keytar: KeytarLike;
  if (probe.available) {
    const module = (await import('keytar')) as unknown as { default?: KeytarLike } & KeytarLike;
    keytar = module.default ?? module;
  } else {
    keytar = new MemoryKeytar();
  }
  return {
    real: probe.available,
    reason: probe.reason,
    keytar,
    service,
    async cleanup() {
      // Not findCredentials: it can crash keytar while another file writes (see secrets/keychain.ts).
      const index = await keytar.getPassword(service, INDEX_ACCOUNT);
      const indexed = index ? (JSON.parse(index) as string[]) : [];
      for (const account of new Set([...indexed, ...TEST_ACCOUNTS, INDEX_ACCOUNT])) await keytar.deletePassword(service, account);
    },
  };
}
