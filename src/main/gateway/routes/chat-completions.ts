/**
 * POST /v1/chat/completions: validate, route, translate, call upstream, and answer as
 * JSON or as OpenAI SSE chunks. A client that goes away aborts the upstream request at
 * once; an upstream failure mid-stream ends the client's stream with an error frame.
 */
import { once } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { AttemptsFailed, runAttempts, type AttemptSuccess } from '../pipeline/attempt-loop.js';
import { GatewayError } from '../errors.js';
import type { ChatCompletionRequest } from '../openai-types.js';
import { validateChatRequest } from '../request-validation.js';
import { RequestRecorder } from '../request-record.js';
import { transportError, isAbort } from '../routing/upstream-client.js';
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

/** The loop's failure as the error to answer with, the trail recorded. */
export function attemptFailure(error: unknown, recorder: RequestRecorder, controller: ClientAbort): GatewayError {
  if (error instanceof AttemptsFailed) {
    recorder.attemptTrail(error.attempts);
    return error.error;
  }
  return error instanceof GatewayError ? error : transportError(error, 'upstream', '', controller);
}

/** Which model and provider answered (after fallbacks), and how many warnings were recorded. */
export function describeAttempt(reply: FastifyReply, attempt: AttemptSuccess, recorder: RequestRecorder): void {
  reply.header('x-switchyard-provider', attempt.resolved.target.provider.id);
  reply.header('x-switchyard-model', attempt.resolved.target.model);
  if (recorder.record.warnings.length > 0) reply.header('x-switchyard-warnings', String(recorder.record.warnings.length));
}

export function registerChatCompletions(app: FastifyInstance, context: GatewayContext): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const recorder = new RequestRecorder(context, request, '/v1/chat/completions');
    reply.header('x-switchyard-request-id', recorder.id);
    let body: ChatCompletionRequest;
    let attempt: AttemptSuccess;
    const controller = abortOnClientClose(reply);
    try {
      body = validateChatRequest(request.body);
      recorder.started(body);
      const chat = body;
      attempt = await runAttempts(context, {
        model: chat.model,
        byokKey: byokKey(request),
        identity: request.gatewayKey,
        signal: controller,
        prepare: (resolved) => resolved.adapter.prepareChat(chat, resolved.target),
        onAttempt: (resolved, prepared) => recorder.routed(resolved.target.provider.id, resolved.target.model, prepared.request.json, prepared.warnings),
      });
    } catch (error) {
      const gatewayError = attemptFailure(error, recorder, controller);
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }
    recorder.attemptTrail(attempt.attempts);
    describeAttempt(reply, attempt, recorder);
    const { resolved, response } = attempt;
    const providerName = resolved.target.provider.name;
    const origin = new URL(resolved.target.provider.baseUrl).origin;

    if (body.stream === true) return streamToClient(reply, body, attempt, recorder, controller, context.upstream.maxStreamEventSize);

    try {
      // Bounded (maxResponseBytes); the one copy is sent as-is when nothing changes.
      const buffer = await context.upstream.readBody(response, { providerName, origin, signal: attempt.signal });
      const parsed = resolved.adapter.parseChatResponse(buffer, resolved.target, body);
      attempt.finish({ ok: true });
      // Recorded before the answer leaves, so an answered request is always logged.
      recorder.succeeded({ usage: parsed.usage, finishReason: parsed.response.choices[0]?.finish_reason ?? null, responseBody: parsed.response });
      reply.code(200).header('content-type', 'application/json').send(parsed.passthrough ?? JSON.stringify(parsed.response));
    } catch (error) {
      const gatewayError = attempt.timedOut() ? attempt.timeoutError() : transportError(error, providerName, origin, controller, 'body');
      attempt.finish({ ok: false, error: gatewayError });
      recorder.failed(gatewayError);
      return sendError(reply, gatewayError);
    }
    return reply;
  });
}

async function streamToClient(
  reply: FastifyReply,
  body: ChatCompletionRequest,
  attempt: AttemptSuccess,
  recorder: RequestRecorder,
  controller: ClientAbort,
  maxEventSize: number,
): Promise<void> {
  const { resolved, response } = attempt;
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
    attempt.finish({ ok: true });
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
    if (!attempt.timedOut() && isAbort(error, controller)) {
      response.body.destroy();
      const cancelled = new GatewayError(499, 'the client closed the stream', { type: 'cancelled', code: 'client_closed_request' });
      attempt.finish({ ok: false, error: cancelled });
      recorder.failed(cancelled, {
        usage: accumulator.usage,
        responseBody: accumulator.toCompletion(),
        firstContentAt: accumulator.firstContentAt,
      });
      if (!raw.destroyed) raw.destroy();
      return;
    }
    // The answer had begun: a connection that breaks now is named as such, not "unreachable".
    const gatewayError = attempt.timedOut() ? attempt.timeoutError() : transportError(error, resolved.target.provider.name, new URL(resolved.target.provider.baseUrl).origin, undefined, 'body');
    failure = { type: 'error', error: { status: gatewayError.status, body: gatewayError.toBody() } };
    raw.write(encoder.encode(failure));
  }
  if (!response.body.destroyed) response.body.destroy();
  if (clientFinished) return;

  if (failure) {
    const error = (failure as Extract<StreamEvent, { type: 'error' }>).error;
    const streamError = new GatewayError(error.status, error.body.message, { type: error.body.type, code: error.body.code });
    attempt.finish({ ok: false, error: streamError });
    recorder.failed(streamError, {
      usage: accumulator.usage,
      responseBody: accumulator.toCompletion(),
      firstContentAt: accumulator.firstContentAt,
    });
    raw.end();
    return;
  }
  finishClient();
}
