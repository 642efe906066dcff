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
import { openProviderKeyStore, type KeytarLike } from '../../src/main/secrets/keychain.js';

/** An in-memory keytar: the "keychain" of machines without one, and a way to simulate failures. */
export class MemoryKeytar implements KeytarLike {
  readonly entries = new Map<string, string>();
  calls = { find: 0, set: 0, delete: 0 };
  /** Makes the next findCredentials calls wait (to race a refresh with a write) or fail. */
  findDelayMs = 0;
  failFind: Error | null = null;

  private id(service: string, account: string): string {
    return `${service}\u0000${account}`;
  }

  async getPassword(service: string, account: string): Promise<string | null> {
    return this.entries.get(this.id(service, account)) ?? null;
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
    if (this.findDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.findDelayMs));
    if (this.failFind) throw this.failFind;
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
      for (const { account } of await keytar.findCredentials(service)) await keytar.deletePassword(service, account);
    },
  };
}
