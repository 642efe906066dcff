/**
 * The desktop app's first gateway key: on the first start of the desktop app (no gateway
 * key exists yet and settings.json has no record of a first key) a key named "First key"
 * is created, so the user can connect a tool at once. Its full key is held in this
 * process's memory only until the renderer takes it, once (the first-run dialog shows it
 * with a copy button); after that only its digest exists, as for every key. Settings
 * record that the first key was made, so it is never made again, even after the user
 * revoked it. Headless mode (`switchyard serve`) never makes one.
 */
import type { GatewayKeyManager, GatewayKeyRecord } from './key-managers.js';
import type { SettingsStore } from './settings-store.js';

export const FIRST_KEY_NAME = 'First key';

export interface FirstRunKeyOptions {
  /** Only the desktop app makes a first key. */
  enabled: boolean;
  gatewayKeys: GatewayKeyManager;
  settings: SettingsStore;
  now?: () => number;
  /** Told when the first key could not be made (the app works on; the user can create one). */
  onError?: (message: string) => void;
}

export class FirstRunKey {
  private held: { key: string; record: GatewayKeyRecord } | null = null;
  private readonly making: Promise<void>;

  constructor(private readonly options: FirstRunKeyOptions) {
    this.making = options.enabled ? this.make() : Promise.resolve();
  }

  /** Resolves once the first key is made (or it was decided that none is needed). */
  ready(): Promise<void> {
    return this.making;
  }

  private async make(): Promise<void> {
    const { gatewayKeys, settings } = this.options;
    try {
      if (settings.get().firstGatewayKeyCreatedAt !== undefined) return;
      // Keys made before (`switchyard gateway-keys create`, an earlier version), revoked ones included: the user has been here.
      if ((await gatewayKeys.list()).length > 0) return;
      const created = await gatewayKeys.create({ name: FIRST_KEY_NAME });
      this.held = created;
      const createdAt = (this.options.now ?? Date.now)();
      settings.update((stored) => {
        stored.firstGatewayKeyCreatedAt = createdAt;
      });
    } catch (error) {
      this.options.onError?.(`could not create the first gateway key: ${(error as Error).message}`);
    }
  }

  /** The first key with its full value, once; null ever after (and where none was made). */
  async take(): Promise<{ key: string; record: GatewayKeyRecord } | null> {
    await this.making;
    const held = this.held;
    this.held = null;
    return held;
  }
}
