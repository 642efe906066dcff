/**
 * Gateway configuration: built-in provider presets, overridden by environment variables
 * (each official SDK's convention) and by an optional JSON config file that declares more
 * OpenAI-compatible providers, model aliases, per-provider headers and access settings.
 * Provider keys never live in the config file: it names the environment variable instead.
 */
import { readFileSync } from 'node:fs';
import { BUILT_IN_PRESETS, type ProviderPreset } from './providers/openai-compatible/presets.js';
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
  /** Milliseconds to wait for an upstream's response headers (and between body chunks). */
  timeoutMs: number;
  quirks: OpenAICompatibleQuirks & { compiledRules: CompiledModelRule[] };
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
}

export interface ConfigFile {
  host?: string;
  port?: number;
  auth?: boolean;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  bodyLimitBytes?: number;
  modelListTtlSeconds?: number;
  aliases?: Record<string, string>;
  providers?: Record<string, ProviderFileEntry>;
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
  timeoutSeconds?: number;
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
    timeoutMs: Math.round((entry.timeoutSeconds ?? 600) * 1000),
    quirks: { ...quirks, compiledRules: compileModelRules(quirks.modelRules) },
  };
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
  const aliases = file.aliases ?? {};
  for (const [alias, target] of Object.entries(aliases)) {
    if (typeof target !== 'string' || target.length === 0) throw new ConfigError(`alias ${alias} must map to a model name`);
  }
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
    aliases: { ...aliases },
    modelListTtlMs: (file.modelListTtlSeconds ?? 600) * 1000,
  };
}

function numberFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}
