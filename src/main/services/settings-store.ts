/**
 * The app's own settings (what the Settings screen edits), kept as `settings.json` in the
 * data folder: host and port, auth, model aliases, price overrides, retention, and base
 * URL overrides for OpenAI-compatible and local providers, and whether the desktop app's
 * first gateway key was made. Never keys. Read once at start
 * (merged into the gateway configuration) and written atomically on every change.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LimitRuleView, PriceOverrideView, RetentionSettingsView } from '../../shared/contract.js';
import type { ConfigFile } from '../gateway/config.js';
import { isRecord } from './operation-error.js';

export const SETTINGS_FILE_NAME = 'settings.json';

export interface StoredSettings {
  host?: string;
  port?: number;
  authRequired?: boolean;
  aliases?: Record<string, string>;
  priceOverrides?: PriceOverrideView[];
  retention?: RetentionSettingsView;
  providerBaseUrls?: Record<string, string>;
  /** Limit rules saved from Settings: they replace the config file's `limits`. */
  limits?: LimitRuleView[];
  /** OpenTelemetry export saved from Settings (no headers): merged over the config file's `telemetry`. */
  telemetry?: { enabled?: boolean; endpoint?: string; protocol?: 'http/protobuf' | 'http/json'; captureContent?: boolean };
  /** When the desktop app made its first gateway key (epoch ms): it is made once, never again. */
  firstGatewayKeyCreatedAt?: number;
}

export const DEFAULT_RETENTION: RetentionSettingsView = {
  maximumAgeDays: null,
  bodyMaximumAgeDays: null,
  maximumSizeMegabytes: null,
  storeBodies: true,
};

export class SettingsStore {
  private current: StoredSettings;
  readonly file: string;

  constructor(dataDirectory: string) {
    this.file = join(dataDirectory, SETTINGS_FILE_NAME);
    this.current = SettingsStore.read(this.file);
  }

  static read(file: string): StoredSettings {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return isRecord(parsed) ? (parsed as StoredSettings) : {};
    } catch {
      return {};
    }
  }

  get(): StoredSettings {
    return structuredClone(this.current);
  }

  retention(): RetentionSettingsView {
    return { ...DEFAULT_RETENTION, ...(this.current.retention ?? {}) };
  }

  update(change: (settings: StoredSettings) => void): StoredSettings {
    const next = structuredClone(this.current);
    change(next);
    mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.file);
    this.current = next;
    return this.get();
  }

  /**
   * The config file with these settings applied over it: the app's settings are the more
   * recent choice, so they win over the file; command-line flags still win over both.
   */
  mergeInto(file: ConfigFile | undefined): ConfigFile {
    const merged: ConfigFile = { ...(file ?? {}) };
    const settings = this.current;
    if (settings.host !== undefined) merged.host = settings.host;
    if (settings.port !== undefined) merged.port = settings.port;
    if (settings.authRequired !== undefined) merged.auth = settings.authRequired;
    if (settings.aliases) merged.aliases = { ...(merged.aliases ?? {}), ...settings.aliases };
    if (settings.limits !== undefined) merged.limits = structuredClone(settings.limits);
    if (settings.telemetry !== undefined) merged.telemetry = { ...(merged.telemetry ?? {}), ...settings.telemetry };
    if (settings.providerBaseUrls) {
      const providers = { ...(merged.providers ?? {}) };
      for (const [id, baseUrl] of Object.entries(settings.providerBaseUrls)) providers[id] = { ...(providers[id] ?? {}), baseUrl };
      merged.providers = providers;
    }
    return merged;
  }
}
