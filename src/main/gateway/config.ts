/**
 * Gateway configuration: built-in provider presets, overridden by environment variables
 * (each official SDK's convention) and by an optional JSON config file that declares more
 * OpenAI-compatible providers, model aliases, per-provider headers and access settings.
 * Provider keys never live in the config file: it names the environment variable instead.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_BREAKER_CONFIG, type BreakerConfig } from './routing/circuit-breaker.js';
import type { ConcurrencyConfig } from './routing/concurrency-gate.js';
import { DEFAULT_RETRY_CONFIG, type RetryConfig } from './routing/retry-policy.js';
import { BUILT_IN_PRESETS, type ProviderPreset } from './providers/openai-compatible/presets.js';
import { parseLimits, type LimitRule, type LimitRuleInput } from './policies/limits-config.js';
import { checkTelemetryEntry, TelemetryConfigError, type TelemetryFileEntry } from '../telemetry/telemetry-config.js';
import {
  DEFAULT_QUIRKS,
  compileModelRules,
  type CompiledModelRule,
  type ModelRule,
  type OpenAICompatibleQuirks,
} from './providers/openai-compatible/quirks.js';

export const DEFAULT_PORT = 4141;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

export interface ProviderConfig {
  id: string;
  name: string;
  kind: ProviderPreset['kind'];
  /** Base URL without a trailing slash (OpenAI-compatible ones include `/v1`). */
  baseUrl: string;
  apiKeyEnv: string | null;
  requiresKey: boolean;
  local: boolean;
  modelPrefixes: string[];
  /** Models declared in the config file: routed here and listed even if the server does not list them. */
  models: string[];
  headers: Record<string, string>;
  /** Milliseconds to wait for an upstream's response headers (= timeouts.firstByteMs). */
  timeoutMs: number;
  timeouts: ProviderTimeouts;
  /** At most this many attempts in flight to this provider, with a bounded queue; null: no limit. */
  concurrency: ConcurrencyConfig | null;
  quirks: OpenAICompatibleQuirks & { compiledRules: CompiledModelRule[] };
}

/** Per-provider timeouts, in milliseconds (0: none). */
export interface ProviderTimeouts {
  /** To open the TCP/TLS connection. */
  connectMs: number;
  /** From sending the request to the upstream's response headers. */
  firstByteMs: number;
  /** Between two chunks of the upstream's body (a stalled stream). */
  idleMs: number;
  /** For the whole attempt, body included. */
  totalMs: number;
}

export interface GatewayConfig {
  host: string;
  port: number;
  /** Require a gateway key on `/v1/*` (the default). */
  auth: boolean;
  /** Host names, besides loopback and the listen host, that the Host header may name. */
  allowedHosts: string[];
  /** Browser origins allowed to call the gateway (CORS is answered for these only). */
  allowedOrigins: string[];
  bodyLimitBytes: number;
  providers: ProviderConfig[];
  /** Alias → `provider/model` or a model name routed by the usual rules. */
  aliases: Record<string, string>;
  /** How long a provider's model list is cached, in milliseconds. */
  modelListTtlMs: number;
  /** Model or alias → the models tried after it, in order, when it fails in a way a retry could fix or its circuit is open. */
  fallbacks: Record<string, string[]>;
  retries: RetryConfig;
  circuitBreaker: BreakerConfig;
  /** Rate limits and budgets (policies/limits.ts), in the file's order. */
  limits: LimitRule[];
  cache: CacheConfig;
  /** OpenTelemetry export as the file gives it (checked; resolved with the OTEL_* environment at start). */
  telemetry: TelemetryFileEntry;
}

/** The response cache (policies/response-cache.ts): off unless the config turns it on; a request may still ask for it. */
export interface CacheConfig {
  enabled: boolean;
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_CACHE_CONFIG: CacheConfig = { enabled: false, ttlMs: 3600_000, maxEntries: 1000, maxBytes: 64 * 1024 * 1024 };

export interface ConfigFile {
  host?: string;
  port?: number;
  auth?: boolean;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  bodyLimitBytes?: number;
  modelListTtlSeconds?: number;
  /** An alias names one model, or an ordered chain: the first model, then its fallbacks. */
  aliases?: Record<string, string | string[]>;
  fallbacks?: Record<string, string[]>;
  retries?: Partial<RetryConfig>;
  circuitBreaker?: Partial<Omit<BreakerConfig, 'openMs'>> & { openSeconds?: number };
  cache?: { enabled?: boolean; ttlSeconds?: number; maxEntries?: number; maxMegabytes?: number };
  providers?: Record<string, ProviderFileEntry>;
  limits?: LimitRuleInput[];
  telemetry?: TelemetryFileEntry;
}

export interface ProviderFileEntry {
  enabled?: boolean;
  name?: string;
  kind?: ProviderPreset['kind'];
  baseUrl?: string;
  apiKeyEnv?: string;
  requiresKey?: boolean;
  local?: boolean;
  modelPrefixes?: string[];
  models?: string[];
  headers?: Record<string, string>;
  /** Time to the upstream's response headers (default 600). */
  timeoutSeconds?: number;
  timeouts?: { connectSeconds?: number; firstByteSeconds?: number; idleSeconds?: number; totalSeconds?: number };
  /** Attempts in flight at once to this provider (default: no limit). */
  maxConcurrent?: number;
  /** Attempts that may wait for a slot beyond maxConcurrent (default 4 × maxConcurrent); more get a 429. */
  maxQueued?: number;
  /** How long an attempt may wait for a slot (default 30). */
  queueTimeoutSeconds?: number;
  quirks?: Partial<Omit<OpenAICompatibleQuirks, 'modelRules'>> & { modelRules?: ModelRule[] };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return parsed as ConfigFile;
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.replace(/\/+$/, '') : url;
}

function validateBaseUrl(providerId: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`provider ${providerId}: baseUrl ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`provider ${providerId}: baseUrl must be http(s), got ${parsed.protocol}`);
  }
  return trimSlash(url);
}

function stringArray(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new ConfigError(`${where} must be an array of strings`);
  }
  return value as string[];
}

function buildProvider(
  preset: ProviderPreset | null,
  id: string,
  entry: ProviderFileEntry,
  environment: NodeJS.ProcessEnv,
): ProviderConfig {
  const baseFromEnvironment = preset?.baseUrlEnv ? environment[preset.baseUrlEnv] : undefined;
  const baseUrl = entry.baseUrl ?? (baseFromEnvironment && baseFromEnvironment.length > 0 ? baseFromEnvironment : preset?.baseUrl);
  if (!baseUrl) throw new ConfigError(`provider ${id}: baseUrl is required for a provider that is not built in`);
  const quirkEntry = entry.quirks ?? {};
  const quirks: OpenAICompatibleQuirks = {
    ...DEFAULT_QUIRKS,
    ...(preset?.quirks ?? {}),
    ...quirkEntry,
    modelRules: [...(quirkEntry.modelRules ?? []), ...(preset?.quirks.modelRules ?? [])],
  };
  for (const rule of quirks.modelRules) {
    try {
      new RegExp(rule.match);
    } catch {
      throw new ConfigError(`provider ${id}: model rule ${JSON.stringify(rule.match)} is not a valid regular expression`);
    }
  }
  const timeouts = timeoutsFrom(id, entry);
  const headers = entry.headers ?? {};
  if (typeof headers !== 'object' || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
    throw new ConfigError(`provider ${id}: headers must be an object of strings`);
  }
  return {
    id,
    name: entry.name ?? preset?.name ?? id,
    kind: entry.kind ?? preset?.kind ?? 'openai-compatible',
    baseUrl: validateBaseUrl(id, baseUrl),
    apiKeyEnv: entry.apiKeyEnv ?? preset?.apiKeyEnv ?? null,
    requiresKey: entry.requiresKey ?? preset?.requiresKey ?? Boolean(entry.apiKeyEnv),
    local: entry.local ?? preset?.local ?? isLoopbackUrl(baseUrl),
    modelPrefixes: entry.modelPrefixes ? stringArray(entry.modelPrefixes, `provider ${id}: modelPrefixes`) : [...(preset?.modelPrefixes ?? [])],
    models: stringArray(entry.models, `provider ${id}: models`),
    headers: { ...headers },
    timeoutMs: timeouts.firstByteMs,
    timeouts,
    concurrency: concurrencyFrom(id, entry),
    quirks: { ...quirks, compiledRules: compileModelRules(quirks.modelRules) },
  };
}

function seconds(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(`${where} must be a number of seconds (0 or more)`);
  return Math.round(value * 1000);
}

function timeoutsFrom(id: string, entry: ProviderFileEntry): ProviderTimeouts {
  const given = entry.timeouts ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new ConfigError(`provider ${id}: timeouts must be an object`);
  const firstByteMs = seconds(given.firstByteSeconds ?? entry.timeoutSeconds, `provider ${id}: timeouts.firstByteSeconds`, 600_000);
  return {
    connectMs: seconds(given.connectSeconds, `provider ${id}: timeouts.connectSeconds`, 10_000),
    firstByteMs,
    idleMs: seconds(given.idleSeconds, `provider ${id}: timeouts.idleSeconds`, firstByteMs),
    totalMs: seconds(given.totalSeconds, `provider ${id}: timeouts.totalSeconds`, 0),
  };
}

function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ConfigError(`${where} must be a whole number of 1 or more`);
  return value;
}

function concurrencyFrom(id: string, entry: ProviderFileEntry): ConcurrencyConfig | null {
  if (entry.maxConcurrent === undefined) return null;
  const limit = positiveInteger(entry.maxConcurrent, `provider ${id}: maxConcurrent`);
  const queue = entry.maxQueued === undefined ? limit * 4 : entry.maxQueued === 0 ? 0 : positiveInteger(entry.maxQueued, `provider ${id}: maxQueued`);
  return { limit, queue, maxWaitMs: seconds(entry.queueTimeoutSeconds, `provider ${id}: queueTimeoutSeconds`, 30_000) };
}

function retriesFrom(value: ConfigFile['retries']): RetryConfig {
  if (value === undefined) return { ...DEFAULT_RETRY_CONFIG };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('retries must be an object');
  const config = { ...DEFAULT_RETRY_CONFIG, ...value };
  for (const [key, number] of Object.entries(config)) {
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) throw new ConfigError(`retries.${key} must be a number, 0 or more`);
  }
  config.maxRetries = Math.floor(config.maxRetries);
  return config;
}

function breakerFrom(value: ConfigFile['circuitBreaker']): BreakerConfig {
  if (value === undefined) return { ...DEFAULT_BREAKER_CONFIG };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('circuitBreaker must be an object');
  const { openSeconds, ...rest } = value;
  const config: BreakerConfig = { ...DEFAULT_BREAKER_CONFIG, ...rest, openMs: seconds(openSeconds, 'circuitBreaker.openSeconds', DEFAULT_BREAKER_CONFIG.openMs) };
  for (const key of ['failureThreshold', 'window', 'minimumRequests'] as const) config[key] = positiveInteger(config[key], `circuitBreaker.${key}`);
  if (typeof config.failureRate !== 'number' || !(config.failureRate > 0 && config.failureRate <= 1)) throw new ConfigError('circuitBreaker.failureRate must be a number above 0 and at most 1');
  return config;
}

function cacheFrom(value: ConfigFile['cache']): CacheConfig {
  if (value === undefined) return { ...DEFAULT_CACHE_CONFIG };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('cache must be an object');
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') throw new ConfigError('cache.enabled must be true or false');
  const megabytes = value.maxMegabytes;
  if (megabytes !== undefined && (typeof megabytes !== 'number' || !Number.isFinite(megabytes) || megabytes <= 0)) throw new ConfigError('cache.maxMegabytes must be a number above 0');
  return {
    enabled: value.enabled ?? DEFAULT_CACHE_CONFIG.enabled,
    ttlMs: seconds(value.ttlSeconds, 'cache.ttlSeconds', DEFAULT_CACHE_CONFIG.ttlMs),
    maxEntries: value.maxEntries === undefined ? DEFAULT_CACHE_CONFIG.maxEntries : positiveInteger(value.maxEntries, 'cache.maxEntries'),
    maxBytes: megabytes === undefined ? DEFAULT_CACHE_CONFIG.maxBytes : Math.round(megabytes * 1024 * 1024),
  };
}

/** Aliases with a chain become an alias to the chain's first model plus fallbacks for the alias. */
function aliasesAndFallbacks(file: ConfigFile): { aliases: Record<string, string>; fallbacks: Record<string, string[]> } {
  const aliases: Record<string, string> = {};
  const fallbacks: Record<string, string[]> = {};
  const givenFallbacks = file.fallbacks ?? {};
  if (typeof givenFallbacks !== 'object' || givenFallbacks === null || Array.isArray(givenFallbacks)) throw new ConfigError('fallbacks must be an object: model or alias → list of models');
  for (const [model, chain] of Object.entries(givenFallbacks)) {
    if (!Array.isArray(chain) || chain.some((item) => typeof item !== 'string' || item.length === 0)) throw new ConfigError(`fallbacks.${model} must be a list of model names`);
    fallbacks[model] = chain.filter((item) => item !== model);
  }
  for (const [alias, target] of Object.entries(file.aliases ?? {})) {
    if (Array.isArray(target)) {
      if (target.length === 0 || target.some((item) => typeof item !== 'string' || item.length === 0)) throw new ConfigError(`alias ${alias} must map to a model name or a non-empty list of model names`);
      aliases[alias] = target[0]!;
      if (target.length > 1) fallbacks[alias] = [...target.slice(1), ...(fallbacks[alias] ?? [])];
    } else {
      if (typeof target !== 'string' || target.length === 0) throw new ConfigError(`alias ${alias} must map to a model name`);
      aliases[alias] = target;
    }
  }
  return { aliases, fallbacks };
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}

export interface LoadConfigOptions {
  file?: ConfigFile;
  environment?: NodeJS.ProcessEnv;
  overrides?: { host?: string; port?: number; auth?: boolean };
}

/** Builds the gateway configuration from presets, the environment and a config file. */
export function loadConfig(options: LoadConfigOptions = {}): GatewayConfig {
  const environment = options.environment ?? process.env;
  const file = options.file ?? {};
  const fileProviders = file.providers ?? {};
  if (typeof fileProviders !== 'object' || Array.isArray(fileProviders)) {
    throw new ConfigError('providers must be an object keyed by provider id');
  }
  const providers: ProviderConfig[] = [];
  for (const preset of BUILT_IN_PRESETS) {
    const entry = fileProviders[preset.id] ?? {};
    if (entry.enabled === false) continue;
    providers.push(buildProvider(preset, preset.id, entry, environment));
  }
  for (const [id, entry] of Object.entries(fileProviders)) {
    if (BUILT_IN_PRESETS.some((preset) => preset.id === id)) continue;
    if (!PROVIDER_ID.test(id)) {
      throw new ConfigError(`provider id ${JSON.stringify(id)} must be lower-case letters, digits, '-' or '_'`);
    }
    if (entry.enabled === false) continue;
    providers.push(buildProvider(null, id, entry, environment));
  }
  const { aliases, fallbacks } = aliasesAndFallbacks(file);
  const port = options.overrides?.port ?? file.port ?? numberFrom(environment.SWITCHYARD_PORT) ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port must be an integer 0–65535, got ${port}`);
  return {
    host: options.overrides?.host ?? file.host ?? environment.SWITCHYARD_HOST ?? DEFAULT_HOST,
    port,
    auth: options.overrides?.auth ?? file.auth ?? true,
    allowedHosts: stringArray(file.allowedHosts, 'allowedHosts').map((host) => host.toLowerCase()),
    allowedOrigins: stringArray(file.allowedOrigins, 'allowedOrigins').map(trimSlash),
    bodyLimitBytes: file.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    providers,
    aliases,
    modelListTtlMs: (file.modelListTtlSeconds ?? 600) * 1000,
    fallbacks,
    retries: retriesFrom(file.retries),
    circuitBreaker: breakerFrom(file.circuitBreaker),
    limits: parseLimits(file.limits),
    cache: cacheFrom(file.cache),
    telemetry: telemetryFrom(file.telemetry),
  };
}

function numberFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function telemetryFrom(value: unknown): TelemetryFileEntry {
  try {
    return checkTelemetryEntry(value);
  } catch (error) {
    if (error instanceof TelemetryConfigError) throw new ConfigError(error.message);
    throw error;
  }
}
