/**
 * OpenTelemetry for the gateway, as a pipeline policy: a span per model call following the
 * GenAI semantic conventions (`chat {model}`), continuing the caller's W3C `traceparent`,
 * with a child span per upstream attempt (retries and fallbacks, from the attempt loop's
 * record), and the conventions' metrics plus the gateway's own counters. Exported over
 * OTLP/HTTP (protobuf or JSON) by the official exporters, batched in a bounded queue: an
 * export never delays or fails a request, and a dead collector costs a failed background
 * POST now and then.
 *
 * The SDK is imported only when telemetry is on (`startTelemetry`), so a gateway without it
 * neither loads it nor pays for it per request.
 */
import type { Context, Counter, Histogram, Meter, Span, Tracer } from '@opentelemetry/api';
import type { RequestRecord } from '../core/record.js';
import type { Policy, PolicyCall, PolicyDecision } from '../gateway/pipeline/policy.js';
import { attemptAttributes, contentAttributes, operationName, providerName, requestAttributes, responseAttributes, type Attributes } from './genai-attributes.js';
import type { TelemetryConfig } from './telemetry-config.js';

interface Instruments {
  tokenUsage: Histogram;
  duration: Histogram;
  timeToFirstToken: Histogram;
  requests: Counter;
  errors: Counter;
  cacheHits: Counter;
  refusals: Counter;
}

/** The loaded SDK pieces a policy uses. */
export interface TelemetrySdk {
  tracer: Tracer;
  meter: Meter;
  /** The caller's trace context from `traceparent` / `tracestate`, or the root context. */
  extract(headers: Record<string, unknown>): Context;
  withSpan(context: Context, span: Span): Context;
  /** Spans the bounded export queue had to drop. */
  droppedSpans(): number;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const REFUSAL_TYPES = new Set(['rate_limit_exceeded', 'budget_exceeded']);

/** Loads the OpenTelemetry SDK and exporters for this configuration. */
export async function startTelemetry(config: TelemetryConfig): Promise<TelemetrySdk> {
  const [api, core, resources, traceBase, metrics] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  const json = config.protocol === 'http/json';
  const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = json
    ? await Promise.all([import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/exporter-metrics-otlp-http')])
    : await Promise.all([import('@opentelemetry/exporter-trace-otlp-proto'), import('@opentelemetry/exporter-metrics-otlp-proto')]);
  const resource = resources.resourceFromAttributes({ 'service.name': config.serviceName });
  const traceExporter = new OTLPTraceExporter({ url: config.tracesUrl, headers: config.headers, timeoutMillis: 10_000 });
  let queued = 0;
  let dropped = 0;
  // Counts what the bounded queue refuses: the processor drops silently once maxQueueSize spans wait.
  const processor = new traceBase.BatchSpanProcessor(traceExporter, { maxQueueSize: config.maxQueueSize, maxExportBatchSize: Math.min(512, config.maxQueueSize), scheduledDelayMillis: 500 });
  const counting: import('@opentelemetry/sdk-trace-base').SpanProcessor = {
    onStart: (span, context) => processor.onStart(span, context),
    onEnd: (span) => {
      if (queued >= config.maxQueueSize) dropped += 1;
      else queued += 1;
      processor.onEnd(span);
    },
    forceFlush: async () => {
      await processor.forceFlush();
      queued = 0;
    },
    shutdown: () => processor.shutdown(),
  };
  const tracerProvider = new traceBase.BasicTracerProvider({ resource, spanProcessors: [counting] });
  const reader = new metrics.PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: config.metricsUrl, headers: config.headers, timeoutMillis: 10_000 }),
    exportIntervalMillis: config.metricsIntervalMs,
    exportTimeoutMillis: Math.min(10_000, config.metricsIntervalMs),
  });
  const meterProvider = new metrics.MeterProvider({ resource, readers: [reader] });
  // The queue empties at each scheduled export; the count of waiting spans follows it.
  const drain = setInterval(() => (queued = 0), 500);
  drain.unref();
  const propagator = new core.W3CTraceContextPropagator();
  return {
    tracer: tracerProvider.getTracer('switchyard'),
    meter: meterProvider.getMeter('switchyard'),
    extract: (headers) => propagator.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter),
    withSpan: (context, span) => api.trace.setSpan(context, span),
    droppedSpans: () => dropped,
    async flush() {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      clearInterval(drain);
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

function instruments(meter: Meter): Instruments {
  return {
    tokenUsage: meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Number of input and output tokens used.' }),
    duration: meter.createHistogram('gen_ai.client.operation.duration', { unit: 's', description: 'GenAI operation duration.' }),
    timeToFirstToken: meter.createHistogram('gen_ai.server.time_to_first_token', { unit: 's', description: 'Time to generate the first token, for streamed answers.' }),
    requests: meter.createCounter('switchyard.requests', { unit: '{request}', description: 'Model calls through the gateway.' }),
    errors: meter.createCounter('switchyard.errors', { unit: '{request}', description: 'Model calls that ended in an error.' }),
    cacheHits: meter.createCounter('switchyard.cache.hits', { unit: '{request}', description: 'Model calls answered from the response cache.' }),
    refusals: meter.createCounter('switchyard.refusals', { unit: '{request}', description: 'Model calls refused by a limit or budget.' }),
  };
}

export class TelemetryPolicy implements Policy {
  readonly name = 'telemetry';
  private readonly spans = new WeakMap<PolicyCall, Span>();
  private sdk: TelemetrySdk | null = null;
  private meters: Instruments | null = null;

  constructor(
    private readonly config: TelemetryConfig,
    private readonly ready: Promise<TelemetrySdk>,
    private readonly server: () => { address: string; port: number } | null = () => null,
  ) {
    void ready.then(
      (sdk) => {
        this.sdk = sdk;
        this.meters = instruments(sdk.meter);
      },
      () => undefined,
    );
  }

  async before(call: PolicyCall): Promise<PolicyDecision> {
    const sdk = this.sdk ?? (await this.ready.catch(() => null));
    if (!sdk) return undefined;
    const attributes = requestAttributes(call.endpoint, call.core, this.server());
    const parent = sdk.extract(call.headers as Record<string, unknown>);
    const span = sdk.tracer.startSpan(`${attributes['gen_ai.operation.name']} ${call.core.model}`, { kind: 2 /* CLIENT */, startTime: call.record.startedAt, attributes }, parent);
    this.spans.set(call, span);
    // The log keeps the trace id, so the inspector can lead to the trace.
    (call.record as RequestRecord).traceId = span.spanContext().traceId;
    return undefined;
  }

  after(call: PolicyCall, record: Readonly<RequestRecord>): void {
    const span = this.spans.get(call);
    const sdk = this.sdk;
    if (!sdk) return;
    const operation = operationName(record.endpoint);
    if (span) {
      this.spans.delete(call);
      span.setAttributes(responseAttributes(record));
      if (this.config.captureContent) span.setAttributes(contentAttributes(record));
      const parent = sdk.withSpan(sdk.extract({}), span);
      (record.attemptsDetail ?? []).forEach((attempt, index) => {
        if (attempt.startedAt === null || attempt.startedAt === undefined) return;
        const child = sdk.tracer.startSpan(`${operation} ${attempt.model ?? record.requestedModel ?? ''}`.trim(), { kind: 2, startTime: attempt.startedAt, attributes: attemptAttributes(attempt, index, operation) }, parent);
        if (attempt.status && attempt.status !== 'success') child.setStatus({ code: 2, message: attempt.errorMessage ?? undefined });
        child.end(attempt.endedAt ?? record.endedAt);
      });
      if (record.status !== 'success') span.setStatus({ code: 2, message: record.errorMessage ?? undefined });
      span.end(record.endedAt);
    }
    this.count(record, operation);
  }

  private count(record: Readonly<RequestRecord>, operation: string): void {
    const meters = this.meters;
    if (!meters) return;
    const base: Attributes = { 'gen_ai.operation.name': operation, 'gen_ai.provider.name': providerName(record.provider) };
    if (record.requestedModel) base['gen_ai.request.model'] = record.requestedModel;
    if (record.resolvedModel) base['gen_ai.response.model'] = record.resolvedModel;
    const failed = record.status !== 'success';
    meters.duration.record(record.latencyMs / 1000, failed ? { ...base, 'error.type': record.errorType ?? String(record.httpStatus) } : base);
    if (record.usage && !record.cacheHit) {
      meters.tokenUsage.record(record.usage.inputTokens, { ...base, 'gen_ai.token.type': 'input' });
      meters.tokenUsage.record(record.usage.outputTokens, { ...base, 'gen_ai.token.type': 'output' });
    }
    if (record.timeToFirstTokenMs !== null) meters.timeToFirstToken.record(record.timeToFirstTokenMs / 1000, base);
    meters.requests.add(1, { ...base, status: record.status });
    if (failed) meters.errors.add(1, { ...base, 'error.type': record.errorType ?? String(record.httpStatus) });
    if (record.cacheHit) meters.cacheHits.add(1, base);
    if (record.errorType !== null && REFUSAL_TYPES.has(record.errorType)) meters.refusals.add(1, { ...base, 'error.type': record.errorType });
  }

  /** Spans the export queue dropped since start. */
  droppedSpans(): number {
    return this.sdk?.droppedSpans() ?? 0;
  }

  async flush(): Promise<void> {
    await this.sdk?.flush();
  }

  async shutdown(): Promise<void> {
    const sdk = await this.ready.catch(() => null);
    await sdk?.shutdown();
  }
}
