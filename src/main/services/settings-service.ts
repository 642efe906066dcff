/**
 * Settings: host and port, auth, model aliases, price overrides, retention, the data
 * folder and exports. Aliases, prices and retention apply at once; host, port and auth
 * at the next start (the screen says so). Built as a list of sections so routing, limits
 * and telemetry settings can be added beside these as those features land.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { PriceOverrideView, RetentionSettingsView, SettingsUpdate, SettingsView, TelemetrySettingsView } from '../../shared/contract.js';
import { parsePriceOverrides, type PriceOverrides } from '../pricing/catalog.js';
import { applyRetention } from '../storage/retention.js';
import { applyPostgresRetention } from '../storage/postgres/retention.js';
import { checkTelemetryEntry } from '../telemetry/telemetry-config.js';
import { OperationError, isRecord } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';
import type { StoredSettings } from './settings-store.js';

const MODEL_NAME = /^[\w.:/@+-]{1,200}$/;

export function priceOverridesOf(views: PriceOverrideView[] | undefined): PriceOverrides {
  const overrides: Record<string, unknown> = {};
  for (const view of views ?? []) {
    const entry: Record<string, number> = { input: view.inputPerMillion, output: view.outputPerMillion };
    if (view.cachedInputPerMillion !== null) entry.cachedInput = view.cachedInputPerMillion;
    overrides[view.key] = entry;
  }
  return parsePriceOverrides(overrides);
}

function readPriceOverrides(value: unknown): PriceOverrideView[] {
  if (!Array.isArray(value)) throw new OperationError('priceOverrides must be a list');
  const views = value.map((item): PriceOverrideView => {
    if (!isRecord(item) || typeof item.key !== 'string' || !MODEL_NAME.test(item.key.trim().replace('/*', '/x'))) {
      throw new OperationError('Each price needs a model, provider/model or provider/* key.');
    }
    const rate = (field: string, required: boolean): number | null => {
      const raw = item[field];
      if ((raw === null || raw === undefined || raw === '') && !required) return null;
      const number = Number(raw);
      if (!Number.isFinite(number) || number < 0) throw new OperationError(`${item.key}: ${field} must be a non-negative number of USD per 1M tokens`);
      return number;
    };
    return {
      key: item.key.trim(),
      inputPerMillion: rate('inputPerMillion', true) as number,
      outputPerMillion: rate('outputPerMillion', true) as number,
      cachedInputPerMillion: rate('cachedInputPerMillion', false),
    };
  });
  priceOverridesOf(views);
  return views;
}

function readAliases(value: unknown): Record<string, string> {
  if (!isRecord(value)) throw new OperationError('aliases must map names to models');
  const aliases: Record<string, string> = {};
  for (const [name, target] of Object.entries(value)) {
    if (!MODEL_NAME.test(name)) throw new OperationError(`"${name}" is not a valid alias name`);
    if (typeof target !== 'string' || !MODEL_NAME.test(target.trim())) throw new OperationError(`alias "${name}" must point to a model name`);
    aliases[name] = target.trim();
  }
  return aliases;
}

function readOptionalCount(value: unknown, field: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new OperationError(`${field} must be a positive number or empty`);
  return number;
}

function readRetention(value: unknown, current: RetentionSettingsView): RetentionSettingsView {
  if (!isRecord(value)) throw new OperationError('retention must be an object');
  return {
    maximumAgeDays: 'maximumAgeDays' in value ? readOptionalCount(value.maximumAgeDays, 'maximumAgeDays') : current.maximumAgeDays,
    bodyMaximumAgeDays: 'bodyMaximumAgeDays' in value ? readOptionalCount(value.bodyMaximumAgeDays, 'bodyMaximumAgeDays') : current.bodyMaximumAgeDays,
    maximumSizeMegabytes: 'maximumSizeMegabytes' in value ? readOptionalCount(value.maximumSizeMegabytes, 'maximumSizeMegabytes') : current.maximumSizeMegabytes,
    storeBodies: typeof value.storeBodies === 'boolean' ? value.storeBodies : current.storeBodies,
  };
}

export function settingsView(context: ServiceContext): SettingsView {
  const stored = context.settings.get();
  const host = stored.host ?? context.config.host;
  // With --port 0 the configured port is 0: show the one actually bound.
  const boundPort = context.runtime.origin ? Number(new URL(context.runtime.origin).port) : context.config.port;
  const port = stored.port ?? (context.config.port === 0 ? boundPort : context.config.port);
  const authRequired = stored.authRequired ?? context.config.auth;
  const telemetry = telemetryView(context);
  return {
    host,
    port,
    authRequired,
    aliases: { ...context.config.aliases },
    priceOverrides: stored.priceOverrides ?? [],
    retention: context.settings.retention(),
    dataDirectory: context.dataDirectory,
    startAtLogin: context.shell.getStartAtLogin ? context.shell.getStartAtLogin() : null,
    restartRequired:
      host !== context.config.host || authRequired !== context.config.auth || (port !== context.config.port && context.config.port !== 0) || telemetry.enabled !== telemetry.active,
    telemetry,
  };
}

/** Telemetry as Settings shows it: what is saved (or running), whether it runs, and its drops. */
function telemetryView(context: ServiceContext): TelemetrySettingsView {
  const running = context.telemetry.config;
  const saved = context.settings.get().telemetry ?? {};
  const base = running.tracesUrl.replace(/\/v1\/traces$/, '');
  return {
    enabled: saved.enabled ?? running.enabled,
    endpoint: saved.endpoint ?? base,
    protocol: saved.protocol ?? running.protocol,
    captureContent: saved.captureContent ?? running.captureContent,
    active: context.telemetry.policy !== null,
    source: running.source,
    droppedSpans: context.telemetry.policy?.droppedSpans() ?? 0,
  };
}

function readTelemetry(value: unknown): NonNullable<StoredSettings['telemetry']> {
  if (!isRecord(value)) throw new OperationError('telemetry must be an object');
  const entry: NonNullable<StoredSettings['telemetry']> = {};
  if (value.enabled !== undefined) entry.enabled = value.enabled === true;
  if (value.captureContent !== undefined) entry.captureContent = value.captureContent === true;
  if (value.endpoint !== undefined) entry.endpoint = String(value.endpoint).trim();
  if (value.protocol !== undefined) entry.protocol = value.protocol as 'http/protobuf' | 'http/json';
  try {
    checkTelemetryEntry(entry);
  } catch (error) {
    throw new OperationError((error as Error).message);
  }
  return entry;
}

export async function runRetention(context: ServiceContext): Promise<{ requestsDeleted: number; bodiesDeleted: number; usedBytesAfter: number }> {
  const retention = context.settings.retention();
  await context.requestLog.committed();
  const limits = {
    maximumAgeDays: retention.maximumAgeDays,
    bodyMaximumAgeDays: retention.bodyMaximumAgeDays,
    maximumSizeBytes: retention.maximumSizeMegabytes === null ? null : retention.maximumSizeMegabytes * 1024 * 1024,
  };
  // A team's PostgreSQL log: the ages apply (one instance at a time); the size does not (see postgres/retention.ts).
  const result = context.database ? applyRetention(context.database, limits) : context.sharedLog ? await applyPostgresRetention(context.sharedLog, limits) : null;
  if (!result) return { requestsDeleted: 0, bodiesDeleted: 0, usedBytesAfter: 0 };
  return { requestsDeleted: result.requestsDeleted, bodiesDeleted: result.bodiesDeleted, usedBytesAfter: result.usedBytesAfter };
}

export function createSettingsService(context: ServiceContext): Pick<OperationHandlers, 'settings.get' | 'settings.update' | 'settings.apply-retention' | 'data.export'> {
  return {
    'settings.get': async () => settingsView(context),
    'settings.update': async (input: SettingsUpdate) => {
      if (!isRecord(input)) throw new OperationError('settings must be an object');
      const change: Partial<StoredSettings> = {};
      if (input.host !== undefined) {
        if (typeof input.host !== 'string' || !/^[\w.:[\]-]{1,255}$/.test(input.host)) throw new OperationError('host must be a host name or address');
        change.host = input.host;
      }
      if (input.port !== undefined) {
        const port = input.port as unknown;
        if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new OperationError('port must be 1–65535');
        change.port = port;
      }
      if (input.authRequired !== undefined) change.authRequired = input.authRequired === true;
      if (input.aliases !== undefined) change.aliases = readAliases(input.aliases);
      if (input.priceOverrides !== undefined) change.priceOverrides = readPriceOverrides(input.priceOverrides);
      if (input.retention !== undefined) change.retention = readRetention(input.retention, context.settings.retention());
      if (input.telemetry !== undefined) change.telemetry = { ...(context.settings.get().telemetry ?? {}), ...readTelemetry(input.telemetry) };
      if (input.startAtLogin !== undefined) {
        if (!context.shell.setStartAtLogin) throw new OperationError('Start at login is only available in the desktop app.', 'not_supported');
        context.shell.setStartAtLogin(input.startAtLogin === true);
      }
      context.settings.update((settings) => Object.assign(settings, change));
      if (change.aliases) {
        // The router reads aliases from the live configuration on every request.
        for (const name of Object.keys(context.config.aliases)) delete context.config.aliases[name];
        Object.assign(context.config.aliases, change.aliases);
      }
      if (change.priceOverrides) context.setPriceOverrides(priceOverridesOf(change.priceOverrides));
      if (change.retention) {
        context.requestLog.setStoreBodies(change.retention.storeBodies);
        await runRetention(context);
      }
      const view = settingsView(context);
      context.events.emit('settings.changed', view);
      return view;
    },
    'settings.apply-retention': async () => runRetention(context),
    'data.export': async (input) => {
      const format = input?.format === 'jsonl' ? 'jsonl' : input?.format === 'csv' ? 'csv' : null;
      if (!format) throw new OperationError('format must be csv or jsonl');
      await context.requestLog.committed();
      const folder = join(context.dataDirectory, 'exports');
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const path = join(folder, `switchyard-requests-${stamp}.${format}`);
      const stream = createWriteStream(path, { mode: 0o600 });
      const requests = await context.log.exportRequests({ format, since: input?.from, until: input?.to }, stream);
      stream.end();
      await finished(stream);
      return { path, requests };
    },
  };
}
