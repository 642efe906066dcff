/**
 * A local OTLP/HTTP receiver for tests: accepts POST /v1/traces and /v1/metrics in JSON
 * (`application/json`) or protobuf (`application/x-protobuf`, decoded with protobufjs from
 * the subset of the OTLP protos spans need), and keeps what arrived, normalised: spans with
 * hex ids and plain attribute values, and the names of the metrics (sent as JSON).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  metricNames: Set<string>;
  contentTypes: Set<string>;
  close(): Promise<void>;
}

const TRACE_PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; }
}
message ArrayValue { repeated AnyValue values = 1; }
`;

const traceRequest = protobuf.parse(TRACE_PROTO, { keepCase: false }).root.lookupType('ExportTraceServiceRequest');

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number; arrayValue?: { values?: AnyValue[] } };

function plain(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plain);
  return undefined;
}

function attributesOf(list: Array<{ key: string; value?: AnyValue }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of list ?? []) out[entry.key] = plain(entry.value);
  return out;
}

/** Ids arrive as hex strings in JSON and as bytes (base64 after toObject) in protobuf. */
function hex(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) return '';
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

interface TraceRequest {
  resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value?: AnyValue }> }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricNames = new Set<string>();
  const contentTypes = new Set<string>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = String(request.headers['content-type'] ?? '');
      contentTypes.add(type);
      const protobufBody = type.includes('protobuf');
      try {
        if (request.url === '/v1/traces') {
          const decoded = (protobufBody ? traceRequest.toObject(traceRequest.decode(body), { bytes: String, longs: String, defaults: false }) : JSON.parse(body.toString('utf8'))) as TraceRequest;
          for (const resourceSpans of decoded.resourceSpans ?? []) {
            const resource = attributesOf(resourceSpans.resource?.attributes);
            for (const scope of resourceSpans.scopeSpans ?? []) {
              for (const span of scope.spans ?? []) {
                spans.push({
                  name: String(span.name),
                  traceId: hex(span.traceId),
                  spanId: hex(span.spanId),
                  parentSpanId: hex(span.parentSpanId),
                  kind: Number(span.kind ?? 0),
                  attributes: attributesOf(span.attributes as Array<{ key: string; value?: AnyValue }>),
                  status: (span.status as { code: number; message?: string } | undefined) ?? { code: 0 },
                  resource,
                });
              }
            }
          }
        } else if (request.url === '/v1/metrics') {
          if (!protobufBody) {
            const decoded = JSON.parse(body.toString('utf8')) as { resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }> }> };
            for (const resource of decoded.resourceMetrics ?? []) for (const scope of resource.scopeMetrics ?? []) for (const metric of scope.metrics ?? []) metricNames.add(metric.name);
          }
        }
        response.writeHead(200, { 'content-type': protobufBody ? 'application/x-protobuf' : 'application/json' });
        response.end(protobufBody ? '' : '{}');
      } catch (error) {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metricNames,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
