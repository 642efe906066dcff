/**
 * POST /v1/chat/completions: validate → decode (openai-chat → core) → attempt loop (each
 * candidate's core adapter prepares its native request) → parse (native → core) → encode
 * (core → chat.completion JSON, or chat.completion.chunk frames). An OpenAI-compatible
 * upstream speaks this format natively: the client's body is prepared as-is and the
 * upstream's bytes are sent back unchanged (same-format pass-through), usage and log exact.
 * A client that goes away aborts the upstream request at once; an upstream failure
 * mid-stream ends the client's stream with an error frame.
 */
import { once } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { AttemptsFailed, runAttempts, type AttemptSuccess } from '../pipeline/attempt-loop.js';
import { GatewayError } from '../errors.js';
import type { ChatCompletionResponse } from '../openai-types.js';
import { validateChatRequest } from '../request-validation.js';
import type { CoreRequest, CoreStreamEvent } from '../../core/types.js';
import { coreErrorFrom, gatewayErrorFrom } from '../core-errors.js';
import { decodeChatRequest } from '../formats/openai-chat/decode.js';
import { encodeChatCompletion } from '../formats/openai-chat/encode-response.js';
import { OpenAIChatStreamEncoder } from '../formats/openai-chat/stream-encoder.js';
import { CoreStreamAccumulator } from '../formats/openai-chat/accumulator.js';
import { recordUsage } from '../pipeline/record-usage.js';
import { RequestRecorder } from '../request-record.js';
import { transportError, isAbort } from '../routing/upstream-client.js';
import { abortOnClientClose, type ClientAbort } from '../routing/client-abort.js';
import { SseDecoder } from '../sse/decoder.js';
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
    let core: CoreRequest;
    let attempt: AttemptSuccess;
    const controller = abortOnClientClose(reply);
    try {
      const body = validateChatRequest(request.body);
      recorder.started(body);
      core = decodeChatRequest(body);
      const decoded = core;
      // An upstream that speaks openai-chat natively gets the client's own body (same-format pass-through).
      const wire = { wire: { format: 'openai-chat' as const, body } };
      attempt = await runAttempts(context, {
        model: decoded.model,
        byokKey: byokKey(request),
        identity: request.gatewayKey,
        signal: controller,
        prepare: (resolved) => resolved.core.prepare(decoded, resolved.target, resolved.core.nativeFormat === 'openai-chat' ? wire : undefined),
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

    if (core.stream) return streamToClient(reply, core, attempt, recorder, controller, context.upstream.maxStreamEventSize);

    try {
      // Bounded (maxResponseBytes); the one copy is sent as-is when nothing changes.
      const buffer = await context.upstream.readBody(response, { providerName, origin, signal: attempt.signal });
      const parsed = resolved.core.parseResponse(buffer, resolved.target, core);
      attempt.finish({ ok: true });
      const passthrough = resolved.core.nativeFormat === 'openai-chat' ? parsed.passthrough : undefined;
      const completion = (passthrough ? parsed.passthroughJson : encodeChatCompletion(parsed.response)) as ChatCompletionResponse;
      // Recorded before the answer leaves, so an answered request is always logged.
      recorder.succeeded({ usage: recordUsage(parsed.response.usage), finishReason: completion.choices?.[0]?.finish_reason ?? null, responseBody: completion });
      reply.code(200).header('content-type', 'application/json').send(passthrough ?? JSON.stringify(completion));
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
  core: CoreRequest,
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
  const translator = resolved.core.createStreamTranslator(resolved.target, core);
  const encoder = new OpenAIChatStreamEncoder({
    id: `chatcmpl-${recorder.id}`,
    created: Math.floor(Date.now() / 1000),
    model: resolved.target.model,
    includeUsage: core.streamUsage,
  });
  const accumulator = new CoreStreamAccumulator();
  // What the client got, as the log records it: the completion the stream adds up to.
  const assembled = (): ChatCompletionResponse => encodeChatCompletion(accumulator.toResponse(), { omitLogprobs: true });
  // One event is capped: an upstream streaming an endless line gets an error frame, not the gateway's memory.
  const decoder = new SseDecoder({ maxEventSize });
  let failure: Extract<CoreStreamEvent, { type: 'error' }> | null = null;

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
    const completion = assembled();
    recorder.succeeded({
      usage: recordUsage(accumulator.usage),
      finishReason: completion.choices[0]?.finish_reason ?? null,
      responseBody: completion,
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
        usage: recordUsage(accumulator.usage),
        responseBody: assembled(),
        firstContentAt: accumulator.firstContentAt,
      });
      if (!raw.destroyed) raw.destroy();
      return;
    }
    // The answer had begun: a connection that breaks now is named as such, not "unreachable".
    const gatewayError = attempt.timedOut() ? attempt.timeoutError() : transportError(error, resolved.target.provider.name, new URL(resolved.target.provider.baseUrl).origin, undefined, 'body');
    failure = { type: 'error', error: coreErrorFrom(gatewayError) };
    raw.write(encoder.encode(failure));
  }
  if (!response.body.destroyed) response.body.destroy();
  if (clientFinished) return;

  if (failure) {
    const streamError = gatewayErrorFrom((failure as Extract<CoreStreamEvent, { type: 'error' }>).error);
    attempt.finish({ ok: false, error: streamError });
    recorder.failed(streamError, {
      usage: recordUsage(accumulator.usage),
      responseBody: assembled(),
      firstContentAt: accumulator.firstContentAt,
    });
    raw.end();
    return;
  }
  finishClient();
}
