/**
 * Where and how the gateway exports OpenTelemetry traces and metrics: resolved once from
 * the config file's `telemetry` object (the Settings screen writes the same object) and the
 * standard OTEL_* environment variables. Pure: nothing here imports the OpenTelemetry SDK,
 * so a gateway with telemetry off never loads it.
 *
 * Off unless asked for: `telemetry.enabled: true` in the config file or Settings, or an
 * OTLP endpoint in the environment (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT).
 * OTEL_SDK_DISABLED=true turns it off whatever else says.
 */

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json'];

/** The config file's (and the settings file's) `telemetry` object. */
export interface TelemetryFileEntry {
  enabled?: boolean;
  /** The collector's base URL (`http://localhost:4318`); `/v1/traces` and `/v1/metrics` are appended. */
  endpoint?: string;
  /** Full URLs for each signal, used as given. */
  tracesEndpoint?: string;
  metricsEndpoint?: string;
  protocol?: OtlpProtocol;
  /** Headers sent with every export (an API key for Honeycomb, Grafana Cloud …). */
  headers?: Record<string, string>;
  /** Record prompts and answers in spans (gen_ai.input.messages / gen_ai.output.messages). Off by default. */
  captureContent?: boolean;
  serviceName?: string;
  /** How often metrics are exported (default 60). */
  metricsIntervalSeconds?: number;
  /** Spans that may wait for export; more are dropped and counted (default 2048). */
  maxQueueSize?: number;
}

export interface TelemetryConfig {
  enabled: boolean;
  tracesUrl: string;
  metricsUrl: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  captureContent: boolean;
  serviceName: string;
  metricsIntervalMs: number;
  maxQueueSize: number;
  /** What turned it on or off, for the Settings screen. */
  source: 'config' | 'environment' | 'default';
}

export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim().length > 0 ? value.trim() : undefined;
}

function httpUrl(value: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new TelemetryConfigError(`${where}: ${JSON.stringify(value)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TelemetryConfigError(`${where} must be an http(s) URL`);
  return value;
}

/** `/v1/traces` under a base endpoint, as the OTLP exporter specification says. */
function signalUrl(base: string, signal: 'traces' | 'metrics'): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key1=value1,key2=value2`, values URL-encoded. */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const name = pair.slice(0, equals).trim().toLowerCase();
    const raw = pair.slice(equals + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // kept as written
    }
    if (name.length > 0) headers[name] = value;
  }
  return headers;
}

function protocolFrom(value: unknown, where: string): OtlpProtocol | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'grpc') throw new TelemetryConfigError(`${where}: grpc is not supported; use http/protobuf (port 4318) or http/json`);
  if (!OTLP_PROTOCOLS.includes(value as OtlpProtocol)) throw new TelemetryConfigError(`${where} must be http/protobuf or http/json`);
  return value as OtlpProtocol;
}

function boundedNumber(value: unknown, where: string, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) throw new TelemetryConfigError(`${where} must be a number, ${minimum} or more`);
  return value;
}

/** Checks a `telemetry` object (from the config file or the Settings screen) and returns it. */
export function checkTelemetryEntry(value: unknown): TelemetryFileEntry {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TelemetryConfigError('telemetry must be an object');
  const entry = value as TelemetryFileEntry;
  if (entry.enabled !== undefined && typeof entry.enabled !== 'boolean') throw new TelemetryConfigError('telemetry.enabled must be true or false');
  if (entry.captureContent !== undefined && typeof entry.captureContent !== 'boolean') throw new TelemetryConfigError('telemetry.captureContent must be true or false');
  for (const field of ['endpoint', 'tracesEndpoint', 'metricsEndpoint'] as const) {
    const url = entry[field];
    if (url !== undefined && (typeof url !== 'string' || url.length > 2000)) throw new TelemetryConfigError(`telemetry.${field} must be a URL`);
    if (typeof url === 'string' && url.length > 0) httpUrl(url, `telemetry.${field}`);
  }
  protocolFrom(entry.protocol, 'telemetry.protocol');
  if (entry.headers !== undefined && (typeof entry.headers !== 'object' || entry.headers === null || Array.isArray(entry.headers) || Object.values(entry.headers).some((header) => typeof header !== 'string'))) {
    throw new TelemetryConfigError('telemetry.headers must be an object of strings');
  }
  if (entry.serviceName !== undefined && (typeof entry.serviceName !== 'string' || entry.serviceName.length === 0 || entry.serviceName.length > 200)) {
    throw new TelemetryConfigError('telemetry.serviceName must be a short name');
  }
  boundedNumber(entry.metricsIntervalSeconds, 'telemetry.metricsIntervalSeconds', 60, 0.05);
  boundedNumber(entry.maxQueueSize, 'telemetry.maxQueueSize', 2048, 1);
  return entry;
}

/** Resolves the telemetry configuration: the file (or Settings) first, then the environment. */
export function resolveTelemetryConfig(file: TelemetryFileEntry | undefined, environment: NodeJS.ProcessEnv): TelemetryConfig {
  const entry = checkTelemetryEntry(file);
  const baseFromEnvironment = nonEmpty(environment.OTEL_EXPORTER_OTLP_ENDPOINT);
  const tracesFromEnvironment = nonEmpty(environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const metricsFromEnvironment = nonEmpty(environment.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  const base = nonEmpty(entry.endpoint) ?? baseFromEnvironment ?? DEFAULT_ENDPOINT;
  const disabled = nonEmpty(environment.OTEL_SDK_DISABLED)?.toLowerCase() === 'true';
  const environmentAsks = baseFromEnvironment !== undefined || tracesFromEnvironment !== undefined;
  const enabled = !disabled && (entry.enabled ?? environmentAsks);
  const protocol =
    protocolFrom(entry.protocol, 'telemetry.protocol') ??
    protocolFrom(nonEmpty(environment.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(environment.OTEL_EXPORTER_OTLP_PROTOCOL), 'OTEL_EXPORTER_OTLP_PROTOCOL') ??
    'http/protobuf';
  return {
    enabled,
    tracesUrl: httpUrl(nonEmpty(entry.tracesEndpoint) ?? (entry.endpoint ? undefined : tracesFromEnvironment) ?? signalUrl(base, 'traces'), 'the traces endpoint'),
    metricsUrl: httpUrl(nonEmpty(entry.metricsEndpoint) ?? (entry.endpoint ? undefined : metricsFromEnvironment) ?? signalUrl(base, 'metrics'), 'the metrics endpoint'),
    protocol,
    headers: { ...parseOtlpHeaders(environment.OTEL_EXPORTER_OTLP_HEADERS), ...(entry.headers ?? {}) },
    captureContent: entry.captureContent ?? nonEmpty(environment.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)?.toLowerCase() === 'true',
    serviceName: entry.serviceName ?? nonEmpty(environment.OTEL_SERVICE_NAME) ?? 'switchyard',
    metricsIntervalMs: Math.round(boundedNumber(entry.metricsIntervalSeconds, 'telemetry.metricsIntervalSeconds', 60, 0.05) * 1000),
    maxQueueSize: Math.floor(boundedNumber(entry.maxQueueSize, 'telemetry.maxQueueSize', 2048, 1)),
    source: disabled ? 'environment' : entry.enabled !== undefined ? 'config' : environmentAsks ? 'environment' : 'default',
  };
}
