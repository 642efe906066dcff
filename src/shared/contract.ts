/**
 * The one typed contract between main and the renderer: every operation the renderer may
 * call and every event main pushes. The preload exposes exactly these names over IPC; the
 * HTTP admin API (headless `/ui`, browser tests) serves the same table at
 * `POST /admin/api/<operation>` and the events at `GET /admin/api/events`.
 * Types only — no Node, no Electron. Money is integer nano-dollars (10⁻⁹ USD) everywhere.
 */

// ───────────────────────────── gateway ─────────────────────────────

export interface GatewayStatus {
  running: boolean;
  /** `http://127.0.0.1:4141`, null when not running. */
  origin: string | null;
  /** `http://127.0.0.1:4141/v1`, null when not running. */
  baseUrl: string | null;
  /** Why the gateway is not running, if it is not. */
  error: string | null;
  /** Clients must send a gateway key on /v1 (false only with --no-auth). */
  authRequired: boolean;
  /** Requests started and not yet finished. */
  inFlight: number;
  /** Where limits, the cache and breakers keep their state (absent where nothing told). */
  sharedState?: SharedStateStatus;
}

export interface AppInformation {
  version: string;
  /** `desktop` inside Electron, `headless` for `switchyard serve`. */
  mode: 'desktop' | 'headless';
  dataDirectory: string;
  platform: string;
}

export interface SpendToday {
  /** Local midnight, epoch ms. */
  since: number;
  requests: number;
  costNanoUsd: number;
  /** Requests with tokens but no known price: their cost is not in costNanoUsd. */
  unpricedRequests: number;
}

// ───────────────────────────── providers and keys ─────────────────────────────

/** Where a provider's key comes from: the OS keychain, an environment variable, nowhere, or not needed (local servers). */
export type ProviderKeyState = 'keychain' | 'environment' | 'missing' | 'not-needed';

export interface ProviderTestResult {
  outcome: 'ok' | 'invalid-key' | 'unreachable' | 'error';
  /** One line for the user, e.g. "42 models listed" or "401: Incorrect API key". */
  message: string;
  /** Epoch ms. */
  testedAt: number;
  latencyMs: number | null;
}

/** A circuit breaker's state: closed (traffic flows), open (attempts skipped until `retryAt`), half-open (one probe let through). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * One circuit breaker: the provider's own (model null) or one of its models' (a provider
 * may fail for one model only). Only circuits that have seen a failure exist.
 */
export interface CircuitView {
  provider: string;
  /** Null for the provider-wide circuit. */
  model: string | null;
  state: CircuitState;
  /** Failures in a row (a success resets it). */
  consecutiveFailures: number;
  /** Failures among the last `recentTotal` outcomes. */
  recentFailures: number;
  recentTotal: number;
  /** When an open circuit lets its probe through (epoch ms); null unless open. */
  retryAt: number | null;
  /** When the circuit last opened (epoch ms); null when closed. */
  openedAt: number | null;
  lastError: string | null;
}

/** A provider's concurrency limit in use: attempts in flight and waiting. */
export interface ProviderConcurrencyView {
  active: number;
  waiting: number;
  limit: number;
  /** Waiting attempts allowed beyond the limit. */
  queue: number;
}

export interface ProviderState {
  id: string;
  name: string;
  kind: 'openai-compatible' | 'anthropic' | 'gemini';
  baseUrl: string;
  /** The preset's or config file's base URL, shown when an override is set. */
  defaultBaseUrl: string;
  baseUrlOverridden: boolean;
  /** A local server (Ollama, LM Studio, vLLM …). */
  local: boolean;
  /** Base URL can be edited (OpenAI-compatible and local servers). */
  baseUrlEditable: boolean;
  keyState: ProviderKeyState;
  /** `sk-…abcd`, never the key. */
  maskedKey: string | null;
  /** The environment variable the key is read from, e.g. OPENAI_API_KEY. */
  keyEnvironmentVariable: string | null;
  /** For local servers: answered on /v1/models at the last probe. Null when never probed or not local. */
  detected: boolean | null;
  lastTest: ProviderTestResult | null;
  /** Its circuit breakers that have seen a failure: provider-wide first, then per model. Empty when it never failed. */
  circuits: CircuitView[];
  /** Null when no concurrency limit is configured for it. */
  concurrency: ProviderConcurrencyView | null;
}

export interface GatewayKeySummary {
  id: string;
  name: string;
  /** The first characters of the key, e.g. `sy-3f9a…`, enough to recognise it. */
  prefix: string;
  tags: Array<{ key: string; value: string }>;
  allowedModels: string[] | null;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Where the key lives: created in the app, or the SWITCHYARD_API_KEY environment variable. */
  source: 'app' | 'environment';
}

export interface GatewayKeyCreateInput {
  name: string;
  tags?: Array<{ key: string; value: string }>;
  expiresAt?: number | null;
  allowedModels?: string[] | null;
}

export interface GatewayKeyCreated {
  /** The full key: shown once, never retrievable again. */
  key: string;
  record: GatewayKeySummary;
}

/** What the playground needs to call the gateway like any client. */
export interface PlaygroundConnection {
  baseUrl: string | null;
  /** An internal key registered with the gateway for the playground only. */
  key: string;
  /** Sent as `x-tags`. */
  tags: string;
}

export interface ModelPriceQuery {
  provider: string | null;
  model: string;
}

/** USD per 1M tokens; null when no price is known. */
export interface ModelPriceView {
  provider: string | null;
  model: string;
  inputPerMillion: number | null;
  outputPerMillion: number | null;
}

// ───────────────────────────── requests (inspector) ─────────────────────────────

export type RequestStatus = 'pending' | 'streaming' | 'success' | 'error' | 'cancelled';

export interface RequestSummary {
  id: string;
  startedAt: number;
  endedAt: number | null;
  endpoint: string;
  requestedModel: string | null;
  resolvedModel: string | null;
  provider: string | null;
  status: RequestStatus;
  httpStatus: number | null;
  stream: boolean;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** While streaming: output tokens estimated from the text so far. */
  liveOutputTokens: number | null;
  /** Null when unpriced (or not finished). */
  costNanoUsd: number | null;
  priced: boolean;
  usageEstimated: boolean;
  latencyMs: number | null;
  timeToFirstTokenMs: number | null;
  attempts: number;
  tags: Array<{ key: string; value: string }>;
  gatewayKeyId: string | null;
  user: string | null;
  conversationId: string | null;
  errorMessage: string | null;
  /** Why it failed, e.g. `rate_limit_exceeded` / `budget_exceeded` for a request the limits refused. */
  errorType: string | null;
  /** Answered from the response cache. */
  cacheHit: boolean;
  warningCount: number;
}

export interface RequestFilters {
  /** Free text: matched against model, provider, endpoint, error, id, tags. */
  text?: string;
  status?: Array<'success' | 'error' | 'cancelled' | 'in-flight'>;
  provider?: string[];
  model?: string[];
  /** `key:value` or `key`. */
  tag?: string[];
  gatewayKey?: string[];
  conversationId?: string;
  from?: number;
  to?: number;
}

export interface RequestListInput {
  filters?: RequestFilters;
  /** Page size, default 200, at most 1000. */
  limit?: number;
  /** Continue after this start time (exclusive) for older rows. */
  before?: number;
}

export interface RequestList {
  items: RequestSummary[];
  hasMore: boolean;
}

export interface RequestFacets {
  providers: string[];
  models: string[];
  tags: string[];
  gatewayKeys: Array<{ id: string; name: string }>;
}

export interface RequestWarningView {
  type: string;
  parameter?: string;
  message: string;
}

export interface AttemptView {
  index: number;
  provider: string | null;
  model: string | null;
  startedAt: number | null;
  endedAt: number | null;
  latencyMs: number | null;
  httpStatus: number | null;
  status: string | null;
  errorType: string | null;
  errorMessage: string | null;
}

/** One canonical stream event as the gateway saw it (kept in memory for recent requests). */
export interface StreamEventView {
  /** Milliseconds since the request started. */
  offsetMs: number;
  type: string;
  /** Text of a delta, tool name, finish reason … shortened. */
  summary: string;
}

export interface RequestDetail extends RequestSummary {
  finishReason: string | null;
  /** The OpenTelemetry trace the request was recorded under (32 hex digits), when telemetry is on. */
  traceId: string | null;
  errorType: string | null;
  requestBody: unknown;
  upstreamRequestBody: unknown;
  responseBody: unknown;
  /** Bodies are not stored (the setting is off, or retention removed them). */
  bodiesAvailable: boolean;
  warnings: RequestWarningView[];
  attemptDetails: AttemptView[];
  /** The client's request headers, secrets masked; null when not known (older requests). */
  requestHeaders: Record<string, string> | null;
  /** Null when not kept: only recent requests of this run keep their stream (the last 500 finished while a window listened, else the last 20). */
  streamEvents: StreamEventView[] | null;
}

// ───────────────────────────── conversations ─────────────────────────────

export interface ConversationSummary {
  id: string;
  title: string | null;
  firstStartedAt: number;
  lastStartedAt: number;
  turns: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  costNanoUsd: number;
  unpricedTurns: number;
  models: string[];
}

export interface ConversationListInput {
  search?: string;
  limit?: number;
  offset?: number;
}

export interface ConversationListView {
  conversations: ConversationSummary[];
  hasMore: boolean;
}

export interface ConversationTurnView {
  requestId: string;
  startedAt: number;
  model: string | null;
  provider: string | null;
  status: string;
  errorMessage: string | null;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
  priced: boolean;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  /** Messages this turn added (OpenAI chat message objects). */
  newMessages: unknown[];
  /** The assistant reply message(s). */
  responseMessages: unknown[];
}

export interface ConversationDetailView extends ConversationSummary {
  turnsDetail: ConversationTurnView[];
}

// ───────────────────────────── analytics ─────────────────────────────

export interface AnalyticsRange {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

export interface MetricsSnapshot {
  requests: number;
  errors: number;
  cancelled: number;
  errorRate: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cachedInputTokens: number;
  totalTokens: number;
  costNanoUsd: number;
  unpricedRequests: number;
  estimatedUsageRequests: number;
  averageLatencyMs: number | null;
  p95LatencyMs: number | null;
  averageTimeToFirstTokenMs: number | null;
  cacheHits: number;
  /** Response-cache savings plus provider prompt-cache savings. */
  cacheSavingsNanoUsd: number;
}

export interface AnalyticsSummary {
  range: AnalyticsRange;
  current: MetricsSnapshot;
  /** The same length of time just before `range`, for the change shown on each card. */
  previous: MetricsSnapshot;
}

export type AnalyticsBucket = 'hour' | 'day';

export interface TimeSeriesInput extends AnalyticsRange {
  bucket: AnalyticsBucket;
  /** IANA time zone of the viewer. */
  timeZone: string;
}

export interface TimeSeriesPointView {
  bucketStart: number;
  label: string;
  requests: number;
  errors: number;
  costNanoUsd: number;
  unpricedRequests: number;
  totalTokens: number;
}

export interface CostByModelSeries {
  bucketStarts: number[];
  /** One series per model (most expensive first); the rest folded into "other". */
  series: Array<{ model: string; costNanoUsd: number[] }>;
}

export type BreakdownDimensionName = 'model' | 'provider' | 'tag' | 'key' | 'user';

export interface BreakdownInput extends AnalyticsRange {
  by: BreakdownDimensionName;
}

export interface BreakdownRowView {
  /** The filter value for the inspector (model, provider, `key:value`, key id, user); null for "(none)". */
  value: string | null;
  label: string;
  requests: number;
  errors: number;
  totalTokens: number;
  costNanoUsd: number;
  unpricedRequests: number;
  averageLatencyMs: number | null;
  p95LatencyMs: number | null;
}

// ───────────────────────────── settings ─────────────────────────────

export interface RetentionSettingsView {
  /** Delete requests older than this many days; null keeps everything. */
  maximumAgeDays: number | null;
  /** Delete only bodies older than this many days; null keeps them. */
  bodyMaximumAgeDays: number | null;
  /** Delete the oldest requests above this size (MB); null for no limit. */
  maximumSizeMegabytes: number | null;
  /** Store request and response bodies at all. */
  storeBodies: boolean;
}

export interface PriceOverrideView {
  /** `model`, `provider/model` or `provider/*`. */
  key: string;
  inputPerMillion: number;
  outputPerMillion: number;
  cachedInputPerMillion: number | null;
}

export interface SettingsView {
  host: string;
  port: number;
  /** Require a gateway key on /v1. */
  authRequired: boolean;
  aliases: Record<string, string>;
  priceOverrides: PriceOverrideView[];
  retention: RetentionSettingsView;
  dataDirectory: string;
  /** Desktop only; null where not supported (headless). */
  startAtLogin: boolean | null;
  /** Settings that take effect at the next start (host, port, auth, telemetry). */
  restartRequired: boolean;
  telemetry: TelemetrySettingsView;
}

/** OpenTelemetry export as Settings edits it (headers, which may hold keys, only from the config file or OTEL_EXPORTER_OTLP_HEADERS). */
export interface TelemetrySettingsView {
  enabled: boolean;
  /** The collector's base URL, e.g. http://localhost:4318. */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  captureContent: boolean;
  /** Exporting now (the settings above apply at the next start). */
  active: boolean;
  /** Where the running configuration came from. */
  source: 'config' | 'environment' | 'default';
  /** Spans the bounded export queue dropped since start. */
  droppedSpans: number;
}

export interface SettingsUpdate {
  host?: string;
  port?: number;
  authRequired?: boolean;
  aliases?: Record<string, string>;
  priceOverrides?: PriceOverrideView[];
  retention?: Partial<RetentionSettingsView>;
  startAtLogin?: boolean;
  telemetry?: Partial<Pick<TelemetrySettingsView, 'enabled' | 'endpoint' | 'protocol' | 'captureContent'>>;
}

export interface ExportInput {
  format: 'csv' | 'jsonl';
  from?: number;
  to?: number;
}

export interface ExportResult {
  /** Absolute path of the written file. */
  path: string;
  requests: number;
}

export interface RetentionRunResult {
  requestsDeleted: number;
  bodiesDeleted: number;
  usedBytesAfter: number;
}

// ───────────────────────────── the table ─────────────────────────────

/** Operations the renderer can ask main for: name → input → output. */
export interface Operations {
  'app.information': { input: void; output: AppInformation };
  'app.open-data-folder': { input: void; output: { opened: boolean } };
  'gateway.status': { input: void; output: GatewayStatus };
  'gateway.spend-today': { input: void; output: SpendToday };
  'providers.list': { input: void; output: ProviderState[] };
  'providers.set-key': { input: { provider: string; key: string }; output: ProviderState };
  'providers.delete-key': { input: { provider: string }; output: ProviderState };
  'providers.test': { input: { provider: string }; output: ProviderState };
  'providers.set-base-url': { input: { provider: string; baseUrl: string | null }; output: ProviderState };
  'providers.detect-local': { input: void; output: ProviderState[] };
  /** Every circuit breaker that has seen a failure, of every provider. */
  'providers.circuits': { input: void; output: CircuitView[] };
  /** Closes the circuits of one provider (or of all, without `provider`). */
  'providers.reset-circuits': { input: { provider?: string }; output: ProviderState[] };
  'gateway-keys.list': { input: void; output: GatewayKeySummary[] };
  'gateway-keys.create': { input: GatewayKeyCreateInput; output: GatewayKeyCreated };
  'gateway-keys.revoke': { input: { id: string }; output: GatewayKeySummary[] };
  /** The desktop app's first gateway key, made on its first start: the full key once, then null (always null headless). */
  'gateway-keys.take-first-run-key': { input: void; output: GatewayKeyCreated | null };
  'playground.connection': { input: void; output: PlaygroundConnection };
  'models.prices': { input: { models: ModelPriceQuery[] }; output: ModelPriceView[] };
  'requests.list': { input: RequestListInput; output: RequestList };
  'requests.get': { input: { id: string }; output: RequestDetail | null };
  'requests.facets': { input: void; output: RequestFacets };
  'conversations.list': { input: ConversationListInput; output: ConversationListView };
  'conversations.get': { input: { id: string }; output: ConversationDetailView | null };
  'analytics.summary': { input: AnalyticsRange; output: AnalyticsSummary };
  'analytics.time-series': { input: TimeSeriesInput; output: TimeSeriesPointView[] };
  'analytics.cost-by-model': { input: TimeSeriesInput; output: CostByModelSeries };
  'analytics.breakdown': { input: BreakdownInput; output: BreakdownRowView[] };
  'settings.get': { input: void; output: SettingsView };
  'settings.update': { input: SettingsUpdate; output: SettingsView };
  'settings.apply-retention': { input: void; output: RetentionRunResult };
  'data.export': { input: ExportInput; output: ExportResult };
  /** Rate limits and budgets: the rules and each one's current use. */
  'limits.get': { input: void; output: LimitsView };
  /** Replaces the rules (validated; saved in the app's settings, applied at once). */
  'limits.update': { input: { rules: LimitRuleView[] }; output: LimitsView };
  /** The response cache: configuration, size, hits and what it saved. */
  'cache.get': { input: void; output: CacheView };
  /** Empties the response cache. */
  'cache.clear': { input: void; output: CacheView };
}

export interface CacheView {
  /** On for every request (config `cache.enabled`); when off a request may still ask with `x-switchyard-cache: on`. */
  enabled: boolean;
  ttlSeconds: number;
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  /** Since the gateway started or the cache was last cleared. */
  hits: number;
  misses: number;
  /** From the request log, last 30 days: hits and what they would have cost. */
  loggedHits30d: number;
  savedNanoUsd30d: number;
}

/** A limit rule as written in the config file's `limits` list. */
export interface LimitRuleView {
  name?: string;
  match?: { key?: string; tag?: string; user?: string };
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  usdPerDay?: string | number;
  usdPerMonth?: string | number;
}

/** One rule and its current use; a null limit is not set. */
export interface LimitUsageView {
  index: number;
  /** The rule's name, else its match described ("key ci, tag team:a", "every request"). */
  label: string;
  rule: LimitRuleView;
  requestsPerMinute: number | null;
  requestsThisMinute: number;
  tokensPerMinute: number | null;
  tokensThisMinute: number;
  usdPerDayNanoUsd: number | null;
  spentTodayNanoUsd: number;
  usdPerMonthNanoUsd: number | null;
  spentThisMonthNanoUsd: number;
}

export interface LimitsView {
  rules: LimitRuleView[];
  usage: LimitUsageView[];
  /** The zone budgets' days and months are counted in. */
  timeZone: string;
  day: string;
  month: string;
  /** Where the counters live: this instance, or Redis shared by several (and whether it is reachable). */
  sharedState: SharedStateStatus;
}

/** Where limits, budgets, the response cache and circuit breakers keep their state (`serve --redis-url`). */
export interface SharedStateStatus {
  backend: 'in-process' | 'redis';
  /** `in-process`: no Redis configured; `unreachable`: Redis configured but down, each instance counting alone. */
  state: 'in-process' | 'connected' | 'unreachable';
  /** The Redis URL with any password masked, or null. */
  url: string | null;
  /** Epoch ms of the last change of state, or null. */
  since: number | null;
  lastError: string | null;
  /** One line for Settings. */
  message: string;
}

/** Events main pushes to the renderer. */
export interface Events {
  'gateway.status-changed': GatewayStatus;
  /** A request arrived (model known, provider not yet). */
  'request.started': RequestSummary;
  /** A request was routed or made streaming progress (at most ~8 per second per request). */
  'request.updated': RequestSummary;
  /** A request finished: final status, tokens, cost, timings. */
  'request.finished': RequestSummary;
  'providers.changed': ProviderState[];
  'gateway-keys.changed': GatewayKeySummary[];
  'settings.changed': SettingsView;
}

export type OperationName = keyof Operations;
export type EventName = keyof Events;
export type OperationInput<Name extends OperationName> = Operations[Name]['input'];
export type OperationOutput<Name extends OperationName> = Operations[Name]['output'];

/** Every key of `Operations`, exactly once: adding an operation without listing it fails to compile. */
const OPERATION_TABLE: { [Name in OperationName]: true } = {
  'app.information': true,
  'app.open-data-folder': true,
  'gateway.status': true,
  'gateway.spend-today': true,
  'providers.list': true,
  'providers.set-key': true,
  'providers.delete-key': true,
  'providers.test': true,
  'providers.set-base-url': true,
  'providers.detect-local': true,
  'providers.circuits': true,
  'providers.reset-circuits': true,
  'gateway-keys.list': true,
  'gateway-keys.create': true,
  'gateway-keys.revoke': true,
  'gateway-keys.take-first-run-key': true,
  'playground.connection': true,
  'models.prices': true,
  'requests.list': true,
  'requests.get': true,
  'requests.facets': true,
  'conversations.list': true,
  'conversations.get': true,
  'analytics.summary': true,
  'analytics.time-series': true,
  'analytics.cost-by-model': true,
  'analytics.breakdown': true,
  'settings.get': true,
  'settings.update': true,
  'settings.apply-retention': true,
  'data.export': true,
  'limits.get': true,
  'limits.update': true,
  'cache.get': true,
  'cache.clear': true,
};

const EVENT_TABLE: { [Name in EventName]: true } = {
  'gateway.status-changed': true,
  'request.started': true,
  'request.updated': true,
  'request.finished': true,
  'providers.changed': true,
  'gateway-keys.changed': true,
  'settings.changed': true,
};

/** The operation names, as data, so the preload, the IPC table and the HTTP admin API are generated from them. */
export const OPERATION_NAMES = Object.freeze(Object.keys(OPERATION_TABLE)) as readonly OperationName[];
export const EVENT_NAMES = Object.freeze(Object.keys(EVENT_TABLE)) as readonly EventName[];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATION_TABLE, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(EVENT_TABLE, name);
}

/** A failed operation as both transports report it. */
export interface OperationFailure {
  error: { message: string; code: string };
}

/** What the renderer sees on `window.switchyard` (desktop) — one named function per operation. */
export type SwitchyardOperations = { [Name in OperationName]: (input: OperationInput<Name>) => Promise<OperationOutput<Name>> };

export interface SwitchyardBridge {
  operations: SwitchyardOperations;
  call<Name extends OperationName>(name: Name, input: OperationInput<Name>): Promise<OperationOutput<Name>>;
  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void;
}
