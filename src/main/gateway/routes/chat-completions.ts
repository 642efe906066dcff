/**
 * POST /v1/chat/completions: validate, route, translate, call upstream, and answer as
 * JSON or as OpenAI SSE chunks. A client that goes away aborts the upstream request at
 * once; an upstream failure mid-stream ends the client's stream with an error frame.
 */
import { once } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { targetFor, type GatewayContext, type ResolvedTarget } from '../context.js';
import { GatewayError } from '../errors.js';
import type { ChatCompletionRequest } from '../openai-types.js';
import { validateChatRequest } from '../request-validation.js';
import { RequestRecorder } from '../request-record.js';
import { transportError, isAbort, readErrorBody, type UpstreamResponse } from '../routing/upstream-client.js';
import { abortOnClientClose, type ClientAbort } from '../routing/client-abort.js';
import { SseDecoder } from '../sse/decoder.js';
import { OpenAIChunkEncoder } from '../sse/openai-chunk-encoder.js';
import { StreamAccumulator } from '../sse/stream-accumulator.js';
import type { StreamEvent } from '../types.js';
import { sendError } from './send-error.js';

export function byokKey(request: FastifyRequest): string | null {
  const value = request.headers['x-provider-api-key'];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function registerChatCompletions(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const recorder = new RequestRecorder(context, request, '/v1/chat/completions');
    reply.header('x-switchyard-request-id', recorder.id);
    let resolved: ResolvedTarget;
    let body: ChatCompletionRequest;
    let response: UpstreamResponse;
    const controller = abortOnClientClose(reply);
    let providerName = 'upstream';
    let origin = '';
    try {
      body = validateChatRequest(request.body);
      recorder.started(body);
      const resolution = context.router.resolveCached(body.model) ?? (await context.router.resolve(body.model));
      resolved = targetFor(context, resolution, byokKey(request), request.gatewayKey, body.model);
      providerName = resolved.target.provider.name;
      origin = new URL(resolved.target.provider.baseUrl).origin;
      const prepared = resolved.adapter.prepareChat(body, resolved.target);
      recorder.routed(resolved.target.provider.id, resolved.target.model, prepared.request.json, prepared.warnings);
      if (prepared.warnings.length > 0) reply.header('x-switchyard-warnings', String(prepared.warnings.length));
      response = await context.upstream.request(prepared.request, {
        signal: controller,
        timeoutMs: resolved.target.provider.timeoutMs,
        providerName,
      });
      if (response.status >= 400) {
        const text = await readErrorBody(response);
        throw resolved.adapter.parseError(response.status, text, response.headers, resolved.target);
      }
    } catch (error) {
      const gatewayError = error instanceof GatewayError ? error : transportError(error, providerName, origin, controller);
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }

    if (body.stream === true) return streamToClient(reply, body, resolved, response, recorder, controller, context.upstream.maxStreamEventSize);

    try {
      // Bounded (maxResponseBytes); the one copy is sent as-is when nothing changes.
      const buffer = await context.upstream.readBody(response, { providerName, origin, signal: controller });
      const parsed = resolved.adapter.parseChatResponse(buffer, resolved.target, body);
      // Recorded before the answer leaves, so an answered request is always logged.
      recorder.succeeded({ usage: parsed.usage, finishReason: parsed.response.choices[0]?.finish_reason ?? null, responseBody: parsed.response });
      reply.code(200).header('content-type', 'application/json').send(parsed.passthrough ?? JSON.stringify(parsed.response));
    } catch (error) {
      const gatewayError = transportError(error, providerName, origin, controller, 'body');
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }
    return reply;
  });
}

async function streamToClient(
  reply: FastifyReply,
  body: ChatCompletionRequest,
  resolved: ResolvedTarget,
  response: UpstreamResponse,
  recorder: RequestRecorder,
  controller: ClientAbort,
  maxEventSize: number,
): Promise<void> {
  // Headers already set on the reply (CORS for an allowed origin, warnings) must survive the hijack.
  const replyHeaders = reply.getHeaders() as OutgoingHttpHeaders;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...replyHeaders,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-switchyard-request-id': recorder.id,
  });
  const translator = resolved.adapter.createStreamTranslator(resolved.target, body);
  const encoder = new OpenAIChunkEncoder({
    id: `chatcmpl-${recorder.id}`,
    created: Math.floor(Date.now() / 1000),
    model: resolved.target.model,
    includeUsage: body.stream_options?.include_usage === true,
  });
  const accumulator = new StreamAccumulator();
  // One event is capped: an upstream streaming an endless line gets an error frame, not the gateway's memory.
  const decoder = new SseDecoder({ maxEventSize });
  let failure: StreamEvent | null = null;

  const translate = (events: ReturnType<SseDecoder['push']>): string => {
    let out = '';
    for (const sseEvent of events) {
      for (const event of translator.push(sseEvent)) {
        accumulator.add(event);
        recorder.streamEvent(event);
        out += encoder.encode(event);
        if (event.type === 'error') failure = event;
      }
      if (failure) break;
    }
    return out;
  };

  // The record is finished before the stream's last bytes leave (see the request log).
  let clientFinished = false;
  const finishClient = (): void => {
    clientFinished = true;
    recorder.succeeded({
      usage: accumulator.usage,
      finishReason: accumulator.finishReason,
      responseBody: accumulator.toCompletion(),
      firstContentAt: accumulator.firstContentAt,
    });
    raw.end(encoder.finish());
  };

  try {
    for await (const chunk of response.body) {
      // Once the upstream said it is done, the client is answered at once, and what is
      // left of the body is read to its end, so the upstream connection goes back to the
      // pool instead of being torn down (breaking out would destroy it).
      if (clientFinished) continue;
      const out = translate(decoder.push(chunk as Buffer));
      if (out.length > 0 && !raw.write(out)) await once(raw, 'drain', { signal: controller.signal });
      if (failure) break;
      if (translator.done) finishClient();
    }
    if (!failure && !translator.done) {
      let out = translate(decoder.end());
      if (!failure) {
        for (const event of translator.end()) {
          accumulator.add(event);
          recorder.streamEvent(event);
          out += encoder.encode(event);
          if (event.type === 'error') failure = event;
        }
      }
      if (out.length > 0) raw.write(out);
    }
  } catch (error) {
    if (clientFinished) {
      // The client has its whole answer; the upstream failed while being drained.
      if (!response.body.destroyed) response.body.destroy();
      return;
    }
    if (isAbort(error, controller)) {
      response.body.destroy();
      recorder.failed(new GatewayError(499, 'the client closed the stream', { type: 'cancelled', code: 'client_closed_request' }), {
        usage: accumulator.usage,
        responseBody: accumulator.toCompletion(),
        firstContentAt: accumulator.firstContentAt,
      });
      if (!raw.destroyed) raw.destroy();
      return;
    }
    // The answer had begun: a connection that breaks now is named as such, not "unreachable".
    const gatewayError = transportError(error, resolved.target.provider.name, new URL(resolved.target.provider.baseUrl).origin, undefined, 'body');
    failure = { type: 'error', error: { status: gatewayError.status, body: gatewayError.toBody() } };
    raw.write(encoder.encode(failure));
  }
  if (!response.body.destroyed) response.body.destroy();
  if (clientFinished) return;

  if (failure) {
    const error = (failure as Extract<StreamEvent, { type: 'error' }>).error;
    recorder.failed(new GatewayError(error.status, error.body.message, { type: error.body.type, code: error.body.code }), {
      usage: accumulator.usage,
      responseBody: accumulator.toCompletion(),
      firstContentAt: accumulator.firstContentAt,
    });
    raw.end();
    return;
  }
  finishClient();
}
