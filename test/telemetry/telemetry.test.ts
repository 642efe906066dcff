/**
 * OpenTelemetry export end to end: gateways started as `serve` starts them, with the
 * `telemetry` config, sending to a real OTLP/HTTP receiver on loopback. Spans follow the
 * GenAI conventions, continue a caller's traceparent, have a child per upstream attempt,
 * carry content only when asked; metrics arrive; the trace id is in the log; a dead
 * collector costs the request nothing; without telemetry nothing is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/main/headless.js';
import { startAppGateway } from '../app-gateway.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { startOtlpReceiver, type OtlpReceiver } from '../fakes/otlp-receiver.js';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let openai: OpenAIFake;
let receiver: OtlpReceiver;
const directories: string[] = [];

beforeAll(async () => {
  openai = await startOpenAIFake({ apiKey: 'sk-otel-test' });
  receiver = await startOtlpReceiver();
});

afterAll(async () => {
  await openai?.close();
  await receiver?.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

async function start(config: Record<string, unknown>, environment: NodeJS.ProcessEnv = {}, existing?: string): Promise<{ gateway: RunningGateway; key: string; dataDir: string }> {
  const dataDir = existing ?? mkdtempSync(join(tmpdir(), 'switchyard-otel-'));
  if (!existing) directories.push(dataDir);
  const { gateway, key } = await startAppGateway({ dataDir, config, environment: { OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: 'sk-otel-test', ...environment } });
  return { gateway, key, dataDir };
}

async function chat(gateway: RunningGateway, key: string, content: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<{ status: number; id: string; body: any }> {
  const response = await fetch(`${gateway.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }),
  });
  return { status: response.status, id: response.headers.get('x-switchyard-request-id') ?? '', body: await response.json() };
}

describe('OpenTelemetry export', () => {
  it('a GenAI span per request under the caller’s trace, a child per attempt, metrics, the trace id in the log', async () => {
    const { gateway, key } = await start({ telemetry: { enabled: true, endpoint: receiver.url, protocol: 'http/json', metricsIntervalSeconds: 0.2, serviceName: 'switchyard-test' } });
    const answered = await chat(gateway, key, 'trace me', { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` }, { temperature: 0.5, max_tokens: 50 });
    expect(answered.status).toBe(200);
    const failed = await chat(gateway, key, 'fail me [error:429]');
    expect(failed.status).toBe(429);
    await gateway.application.context.requestLog.committed();
    const detail = await gateway.application.services['requests.get']({ id: answered.id });
    await gateway.close();

    const root = receiver.spans.find((span) => span.attributes['switchyard.request_id'] === answered.id)!;
    expect(root).toBeDefined();
    expect(root.name).toBe('chat gpt-4o-mini');
    expect(root.kind).toBe(3); // SPAN_KIND_CLIENT on the wire
    expect(root.traceId).toBe(CALLER_TRACE);
    expect(root.parentSpanId).toBe(CALLER_SPAN);
    expect(root.resource['service.name']).toBe('switchyard-test');
    expect(root.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.5,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.model': answered.body.model,
      'gen_ai.response.id': answered.body.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': answered.body.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': answered.body.usage.completion_tokens,
      'server.address': '127.0.0.1',
    });
    expect(root.attributes['gen_ai.input.messages']).toBeUndefined();
    const attempts = receiver.spans.filter((span) => span.parentSpanId === root.spanId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'http.response.status_code': 200 });
    expect(detail?.traceId).toBe(CALLER_TRACE);

    const failedSpan = receiver.spans.find((span) => span.attributes['switchyard.request_id'] === failed.id)!;
    expect(failedSpan.traceId).not.toBe(CALLER_TRACE);
    expect(failedSpan.parentSpanId).toBe('');
    expect(failedSpan.status.code).toBe(2);
    expect(failedSpan.attributes['error.type']).toEqual(expect.any(String));

    expect([...receiver.metricNames]).toEqual(expect.arrayContaining(['gen_ai.client.token.usage', 'gen_ai.client.operation.duration', 'switchyard.requests', 'switchyard.errors']));
  });

  it('a retried request has one child span per attempt', async () => {
    const { gateway, key } = await start({ retries: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 }, telemetry: { enabled: true, endpoint: receiver.url, protocol: 'http/json' } });
    const failed = await chat(gateway, key, 'retry me [error:500]');
    expect(failed.status).toBeGreaterThanOrEqual(500);
    await gateway.close();
    const root = receiver.spans.find((span) => span.attributes['switchyard.request_id'] === failed.id)!;
    const attempts = receiver.spans.filter((span) => span.parentSpanId === root.spanId);
    expect(attempts.map((span) => span.attributes['switchyard.attempt.index'])).toEqual([0, 1]);
    expect(attempts.every((span) => span.status.code === 2 && span.traceId === root.traceId)).toBe(true);
  });

  it('captures messages only when asked, and exports protobuf by default', async () => {
    const { gateway, key } = await start({ telemetry: { enabled: true, endpoint: receiver.url, captureContent: true } });
    const answered = await chat(gateway, key, 'remember this sentence');
    await gateway.close();
    expect(receiver.contentTypes).toContain('application/x-protobuf');
    const root = receiver.spans.find((span) => span.attributes['switchyard.request_id'] === answered.id)!;
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(String(root.attributes['gen_ai.input.messages'])).toContain('remember this sentence');
    expect(String(root.attributes['gen_ai.output.messages'])).toContain(answered.body.choices[0].message.content);
  });

  it('the standard OTEL_ variables turn it on; a dead collector costs the request nothing', async () => {
    const { gateway, key } = await start({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    for (let index = 0; index < 5; index += 1) expect((await chat(gateway, key, `nobody listens ${index}`)).status).toBe(200);
    const started = Date.now();
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('sends nothing when off', async () => {
    const before = receiver.spans.length;
    const { gateway, key } = await start({ telemetry: { enabled: false, endpoint: receiver.url } }, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const answered = await chat(gateway, key, 'not traced');
    await gateway.application.context.requestLog.committed();
    expect((await gateway.application.services['requests.get']({ id: answered.id }))?.traceId).toBeNull();
    await gateway.close();
    expect(receiver.spans.length).toBe(before);
  });

  it('Settings turn it on for the next start', async () => {
    const first = await start({});
    const services = first.gateway.application.services;
    expect((await services['settings.get'](undefined)).telemetry).toMatchObject({ enabled: false, active: false });
    await expect(services['settings.update']({ telemetry: { protocol: 'grpc' as never } })).rejects.toThrow('grpc is not supported');
    const saved = await services['settings.update']({ telemetry: { enabled: true, endpoint: receiver.url, protocol: 'http/json', captureContent: false } });
    expect(saved.telemetry).toMatchObject({ enabled: true, endpoint: receiver.url, protocol: 'http/json', active: false });
    expect(saved.restartRequired).toBe(true);
    await first.gateway.close();
    const second = await start({}, {}, first.dataDir);
    expect((await second.gateway.application.services['settings.get'](undefined)).telemetry).toMatchObject({ enabled: true, active: true, source: 'config' });
    const answered = await chat(second.gateway, second.key, 'traced after a restart');
    await second.gateway.close();
    expect(receiver.spans.some((span) => span.attributes['switchyard.request_id'] === answered.id)).toBe(true);
  });

  it('rejects a bad telemetry config with a clear error', async () => {
    await expect(start({ telemetry: { enabled: true, protocol: 'grpc' } })).rejects.toThrow('grpc is not supported');
  });
});
