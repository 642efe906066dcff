/**
 * The request pipeline every model-call endpoint runs, whatever API the client speaks:
 *
 *   validate → decode (wire → core) → policies → attempt loop (candidates, retries,
 *   fallbacks, breakers, timeouts; each candidate's adapter prepares its native request)
 *   → parse (native → core) → encode (core → the client's wire format) → recorder
 *
 * A route picks its ClientFormat and hands over. The format says how to read its wire
 * request, how to write a response, a stream and an error; nothing here knows a format's
 * field names or a provider's. Where the upstream speaks the client's format natively the
 * client's body is prepared as-is and the upstream's bytes go back unchanged (same-format
 * pass-through): lossless and fast, with usage, cost and the log still exact.
 *
 * Policies (limits and budgets, the response cache, tracing spans) plug in at `policies`:
 * each may answer the request itself (a refusal, a cache hit) before any attempt, and
 * sees the outcome afterwards.
 */
import { once } from 'node:events';
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientFormat as CoreClientFormat, CoreRequest, CoreResponse, CoreStreamEvent } from '../../core/types.js';
import type { RequestWarning, Usage } from '../../core/record.js';
import { assertModelAllowed, type GatewayContext, type ResolvedTarget } from '../context.js';
import { coreErrorFrom, gatewayErrorFrom } from '../core-errors.js';
import { GatewayError } from '../errors.js';
import { RequestRecorder } from '../request-record.js';
import { abortOnClientClose, type ClientAbort } from '../routing/client-abort.js';
import { isAbort, transportError } from '../routing/upstream-client.js';
import { SseDecoder, type SseEvent } from '../sse/decoder.js';
import { AttemptsFailed, runAttempts, type AttemptSuccess } from './attempt-loop.js';
import { CoreStreamAccumulator } from '../formats/openai-chat/accumulator.js';
import { recordUsage } from './record-usage.js';
import { policiesAfter, policiesBefore, type PolicyAnswer, type PolicyCall } from './policy.js';
import { replayEvents } from '../policies/cache-replay.js';
import { jsonKeyCount } from '../json-body.js';

/** Turns core stream events into one client format's stream text. */
export interface FormatStreamEncoder {
  /** The text for one event ('' when it shows nothing); an `error` event gives the format's error frame. */
  encode(event: CoreStreamEvent): string;
  /** The closing text of a stream that ended well. */
  finish(): string;
  /**
   * After an `error` event: the response its error frame reported as failed, when the format
   * keeps responses to be fetched later by id (Responses' `response.failed`); what the log keeps.
   */
  failedResponse?(): unknown;
}

/** One client-facing API: how its requests are read and its answers written. */
export interface ClientFormat<Wire> {
  /** The endpoint recorded in the log (`/v1/chat/completions`). */
  endpoint: string;
  /** Checks the parsed JSON body; throws a 400 GatewayError naming the field. */
  validate(body: unknown): Wire;
  /**
   * What the request stands for, when that takes a lookup (a Responses request that continues a
   * stored response gets its conversation written in); the client's own body is what is logged.
   */
  resolve?(wire: Wire, request: FastifyRequest): Promise<Wire>;
  /** The conversation the resolved request continues in the log (a continued Responses response's), if any. */
  conversationId?(): string | null;
  /** The id a client may later refer to the answer by (a Responses `resp_…`), recorded in the log. */
  responseIdOf?(encoded: unknown): string | null;
  /** Wire → core; `headers` for what a format carries in headers (Anthropic's `anthropic-beta`). */
  decode(wire: Wire, headers?: FastifyRequest['headers']): CoreRequest;
  /** The upstream native format that takes this format's body as it is, if any. */
  passthroughNative?: string;
  /**
   * What of the decoded request reaches a `passthroughNative` upstream and can change its answer
   * but is not in the core request (Responses hosted tools, `include` …): part of the response
   * cache key. Null when there is none.
   */
  nativeExtras?(): Record<string, unknown> | null;
  /**
   * Set when the request can only go to a `passthroughNative` upstream (a Responses
   * previous_response_id the log does not hold, which OpenAI may know): the error every other
   * upstream answers with, before any call.
   */
  passthroughOnly?(): GatewayError | null;
  /**
   * Streams from a `passthroughNative` upstream are forwarded as the upstream's own SSE bytes,
   * event by event as they arrive (still decoded to core events for usage, the log and the
   * inspector); errors, the gateway's or the upstream's, still end with this format's error event.
   * Only for a format whose stream encoder would add nothing of its own (ids, pings).
   */
  passthroughStream?: boolean;
  /** Sees each upstream event a pass-through stream forwards, as it goes by (the Responses format keeps OpenAI's final response for the log). */
  passthroughEvent?(event: SseEvent): void;
  /** The response to send (and log) for a core response. */
  encodeResponse(response: CoreResponse): unknown;
  /** The response a stream added up to, as the log records it (default: encodeResponse). */
  encodeStreamed?(response: CoreResponse): unknown;
  /** The finish reason the log records, from the encoded response. */
  finishReasonOf(encoded: unknown): string | null;
  /** A stream encoder for one response. */
  streamEncoder(init: { requestId: string; model: string; core: CoreRequest }): FormatStreamEncoder;
  /** Warnings of the decode (request parts no upstream can take, left out), recorded with each attempt's. */
  decodeWarnings?(): RequestWarning[];
  /** Sends an error in this format's shape (status, headers, body). */
  sendError(reply: FastifyReply, error: GatewayError): FastifyReply | void;
}

/** Whether the resolved upstream takes this format's body as it is (same-format pass-through). */
function speaksNatively(format: ClientFormat<unknown>, resolved: ResolvedTarget): boolean {
  const native = format.passthroughNative;
  if (native === undefined) return false;
  return resolved.core.nativeFormat === native || resolved.core.speaks?.(native as CoreClientFormat, resolved.target) === true;
}

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

/** Runs one model call through the pipeline and answers it in the client's format. */
export async function runPipeline<Wire>(context: GatewayContext, format: ClientFormat<Wire>, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> {
  const recorder = new RequestRecorder(context, request, format.endpoint);
  if (format.responseIdOf) recorder.responseIdOf = format.responseIdOf;
  reply.header('x-switchyard-request-id', recorder.id);
  let core: CoreRequest;
  let attempt: AttemptSuccess;
  let call: PolicyCall | null = null;
  const controller = abortOnClientClose(reply);
  if (context.policies.length > 0) recorder.onFinish = (record) => call && policiesAfter(context.policies, call, record);
  try {
    const sent = format.validate(request.body);
    // The client's text is logged as it came, unless validation gave another object than the one parsed.
    recorder.started(sent as { model?: unknown; stream?: unknown; user?: unknown }, sent === request.body ? request.bodyText : null);
    const body = format.resolve ? await format.resolve(sent, request) : sent;
    // A client's own conversation header still wins.
    recorder.record.conversationId ??= format.conversationId?.() ?? null;
    core = format.decode(body, request.headers);
    const decoded = core;
    if (context.policies.length > 0) {
      call = { id: recorder.id, endpoint: format.endpoint, core: decoded, record: recorder.record, headers: request.headers, gatewayKey: request.gatewayKey, byokKey: byokKey(request), nativeExtras: format.nativeExtras?.() ?? null, replyHeaders: {}, response: null };
      const decision = await policiesBefore(context.policies, call);
      for (const [name, value] of Object.entries(call.replyHeaders)) reply.header(name, value);
      if (decision && 'refuse' in decision) throw decision.refuse;
      if (decision) {
        // An answer given in place of the upstream obeys the gateway key's model list all the same.
        assertModelAllowed(request.gatewayKey, decoded.model);
        return answerFromPolicy(format, reply, recorder, decoded, decision.answer);
      }
    }
    // An upstream that speaks the client's format natively gets the client's own body (as its text, when nothing changes).
    // Keys counted here, not for every body parsed: only a format an upstream may speak natively can use the text.
    const text = format.passthroughNative && body === request.body && request.bodyText !== null && jsonKeyCount(body) === request.bodyKeys ? request.bodyText : undefined;
    const wire = format.passthroughNative ? { wire: { format: format.passthroughNative, body, text } } : undefined;
    attempt = await runAttempts(context, {
      model: decoded.model,
      byokKey: byokKey(request),
      identity: request.gatewayKey,
      signal: controller,
      prepare: (resolved) => {
        const native = wire !== undefined && speaksNatively(format, resolved);
        const refusal = native ? null : (format.passthroughOnly?.() ?? null);
        if (refusal) throw refusal;
        return resolved.core.prepare(decoded, resolved.target, native ? (wire as Parameters<typeof resolved.core.prepare>[2]) : undefined);
      },
      // The decode's warnings are about the translation: none when the body passes through.
      onAttempt: (resolved, prepared) =>
        recorder.routed(resolved.target.provider.id, resolved.target.model, prepared.request.json, [...(speaksNatively(format, resolved) ? [] : (format.decodeWarnings?.() ?? [])), ...prepared.warnings], prepared.request.body),
    });
  } catch (error) {
    const gatewayError = attemptFailure(error, recorder, controller);
    recorder.failed(gatewayError);
    return format.sendError(reply, gatewayError);
  }
  recorder.attemptTrail(attempt.attempts);
  describeAttempt(reply, attempt, recorder);
  if (core.stream) return streamToClient(context, format, reply, core, attempt, recorder, controller, call);

  const { resolved, response } = attempt;
  const providerName = resolved.target.provider.name;
  const origin = context.upstream.originOf(resolved.target.provider.baseUrl);
  try {
    // Bounded (maxResponseBytes); the one copy is sent as-is when nothing changes.
    const buffer = await context.upstream.readBody(response, { providerName, origin, signal: attempt.signal });
    const parsed = resolved.core.parseResponse(buffer, resolved.target, core);
    attempt.finish({ ok: true });
    const passthrough = speaksNatively(format, resolved) ? parsed.passthrough : undefined;
    const encoded = passthrough ? parsed.passthroughJson : format.encodeResponse(parsed.response);
    if (call) call.response = parsed.response;
    const answer = passthrough ?? JSON.stringify(encoded);
    // Recorded before the answer leaves, so an answered request is always logged; the log may
    // hold the answer until the end of this turn of the event loop (one journal write for all).
    // The log keeps the text sent (the upstream's bytes parse to passthroughJson).
    const responseText = typeof answer === 'string' ? answer : answer.toString('utf8');
    await sendJsonWhenRecorded(reply, recorder, { usage: recordUsage(parsed.response.usage), finishReason: format.finishReasonOf(encoded), responseBody: encoded, responseText }, answer);
  } catch (error) {
    const gatewayError = attempt.timedOut() ? attempt.timeoutError() : transportError(error, providerName, origin, controller, 'body');
    attempt.finish({ ok: false, error: gatewayError });
    recorder.failed(gatewayError);
    return format.sendError(reply, gatewayError);
  }
  return reply;
}

async function streamToClient<Wire>(
  context: GatewayContext,
  format: ClientFormat<Wire>,
  reply: FastifyReply,
  core: CoreRequest,
  attempt: AttemptSuccess,
  recorder: RequestRecorder,
  controller: ClientAbort,
  call: PolicyCall | null,
): Promise<void> {
  const { resolved, response } = attempt;
  const raw = openEventStream(reply, recorder);
  const translator = resolved.core.createStreamTranslator(resolved.target, core);
  const encoder = format.streamEncoder({ requestId: recorder.id, model: resolved.target.model, core });
  // Same format on both sides: the upstream's events go out as they came, only errors are the encoder's.
  const passthrough = format.passthroughStream === true && speaksNatively(format, resolved);
  const accumulator = new CoreStreamAccumulator();
  // What the client got, as the log records it: the response the stream adds up to.
  const assembled = (): unknown => (format.encodeStreamed ?? format.encodeResponse)(accumulator.toResponse());
  const partial = (): { usage: Usage | null; responseBody: unknown; firstContentAt: number | null } => ({
    usage: recordUsage(accumulator.usage),
    responseBody: assembled(),
    firstContentAt: accumulator.firstContentAt,
  });
  // One event is capped: an upstream streaming an endless line gets an error frame, not the gateway's memory.
  const decoder = new SseDecoder({ maxEventSize: context.upstream.maxStreamEventSize, keepRaw: passthrough });
  let failure: Extract<CoreStreamEvent, { type: 'error' }> | null = null;
  // When the read being translated arrived: its events' time for the inspector, one clock read per read.
  let readAt = 0;

  const emit = (event: CoreStreamEvent): string => {
    accumulator.add(event);
    recorder.streamEvent(event, readAt);
    if (event.type === 'error') failure = event;
    return encoder.encode(event);
  };
  // Pass-through: the core events are only taken note of; the upstream's frame is what the client gets.
  const note = (event: CoreStreamEvent): string => {
    accumulator.add(event);
    recorder.streamEvent(event, readAt);
    if (event.type !== 'error') return '';
    failure = event;
    return encoder.encode(event);
  };
  const translate = (events: ReturnType<SseDecoder['push']>): string => {
    readAt = Date.now();
    let out = '';
    for (const sseEvent of events) {
      if (passthrough) {
        let errorFrame = '';
        for (const event of translator.push(sseEvent)) errorFrame += note(event);
        if (!failure) format.passthroughEvent?.(sseEvent);
        // An event that failed (the upstream's error, or one that cannot be read) is answered by the format's error event.
        out += failure ? errorFrame : sseEvent.raw ?? '';
      } else {
        for (const event of translator.push(sseEvent)) out += emit(event);
      }
      if (failure) break;
    }
    if (passthrough && !failure) out += decoder.takeRaw();
    return out;
  };

  // The record is finished before the stream's last bytes leave (see the request log), which
  // may hold them to the end of this turn of the event loop: one journal write for the turn.
  let clientFinished = false;
  /** `last`: the stream's text not yet written, sent with the closing frames in one write. */
  const finishClient = (last = ''): void => {
    clientFinished = true;
    attempt.finish({ ok: true });
    const whole = accumulator.toResponse();
    if (call) call.response = whole;
    const encoded = (format.encodeStreamed ?? format.encodeResponse)(whole);
    const end = passthrough ? last : last + encoder.finish();
    recorder.succeeded(
      {
        usage: recordUsage(accumulator.usage),
        finishReason: format.finishReasonOf(encoded),
        responseBody: encoded,
        firstContentAt: accumulator.firstContentAt,
      },
      () => raw.end(end),
    );
  };

  try {
    for await (const chunk of response.body) {
      // Once the upstream said it is done, the client is answered at once, and what is
      // left of the body is read to its end, so the upstream connection goes back to the
      // pool instead of being torn down (breaking out would destroy it).
      if (clientFinished) continue;
      const out = translate(decoder.push(chunk as Buffer));
      // The read that brought the end: its frames and the closing ones leave in one write.
      if (!failure && translator.done) {
        finishClient(out);
        continue;
      }
      if (out.length > 0 && !raw.write(out)) await once(raw, 'drain', { signal: controller.signal });
      if (failure) break;
    }
    if (!failure && !translator.done) {
      let out = translate(decoder.end());
      // A last upstream event without its blank line is closed before anything follows it.
      if (passthrough && out.length > 0 && !/(\r\n\r\n|\n\n|\r\r)$/.test(out)) out += '\n\n';
      if (!failure) for (const event of translator.end()) out += passthrough ? note(event) : emit(event);
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
      recorder.failed(cancelled, partial());
      if (!raw.destroyed) raw.destroy();
      return;
    }
    // The answer had begun: a connection that breaks now is named as such, not "unreachable".
    const gatewayError = attempt.timedOut() ? attempt.timeoutError() : transportError(error, resolved.target.provider.name, context.upstream.originOf(resolved.target.provider.baseUrl), undefined, 'body');
    const frame: Extract<CoreStreamEvent, { type: 'error' }> = { type: 'error', error: coreErrorFrom(gatewayError) };
    failure = frame;
    raw.write(encoder.encode(frame));
  }
  if (!response.body.destroyed) response.body.destroy();
  if (clientFinished) return;

  if (failure) {
    const streamError = gatewayErrorFrom((failure as Extract<CoreStreamEvent, { type: 'error' }>).error);
    attempt.finish({ ok: false, error: streamError });
    // The client was told of a failed response by id (response.failed): the log keeps that response, retrievable.
    const failedResponse = encoder.failedResponse?.() ?? null;
    recorder.failed(streamError, failedResponse ? { ...partial(), responseBody: failedResponse, retrievable: true } : partial());
    raw.end();
    return;
  }
  finishClient();
}

/**
 * Records a JSON answer's success and sends it once the log lets it go (it may hold the answer
 * until the end of this turn of the event loop: one journal write for all). Settles once the
 * answer is sent, so Fastify finds the reply sent instead of watching its stream end.
 */
function sendJsonWhenRecorded(reply: FastifyReply, recorder: RequestRecorder, outcome: Parameters<RequestRecorder['succeeded']>[0], answer: string | Buffer): Promise<void> {
  return new Promise<void>((sent) =>
    recorder.succeeded(outcome, () => {
      try {
        reply.code(200).header('content-type', 'application/json').send(answer);
      } finally {
        sent();
      }
    }),
  );
}

/** The stream's own headers (they win over any set before), as name, value pairs. */
const EVENT_STREAM_HEADERS = ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache', 'connection', 'keep-alive', 'x-accel-buffering', 'no'];
const OWN_HEADER_NAMES = new Set([...EVENT_STREAM_HEADERS.filter((_, index) => index % 2 === 0), 'x-switchyard-request-id']);

/**
 * Takes the reply over for an SSE stream; headers already set (CORS for an allowed origin,
 * warnings, policies') survive the hijack. The headers go to Node as one flat list of names and
 * values: an object spread of both sets was ~6 µs per stream (Node walks an object's keys).
 */
function openEventStream(reply: FastifyReply, recorder: RequestRecorder): FastifyReply['raw'] {
  const replyHeaders = reply.getHeaders() as OutgoingHttpHeaders;
  reply.hijack();
  const raw = reply.raw;
  const headers: OutgoingHttpHeader[] = [];
  for (const name in replyHeaders) {
    const value = replyHeaders[name];
    if (value !== undefined && !OWN_HEADER_NAMES.has(name)) headers.push(name, value);
  }
  headers.push(...EVENT_STREAM_HEADERS, 'x-switchyard-request-id', recorder.id);
  raw.writeHead(200, headers);
  return raw;
}

/**
 * A policy answered (a response-cache hit): the client gets the answer in its own format, as
 * JSON or replayed as a stream through the format's encoder, and no upstream is tried. The log
 * names who gave the answer originally and the usage it reported (what the hit saved).
 */
async function answerFromPolicy<Wire>(format: ClientFormat<Wire>, reply: FastifyReply, recorder: RequestRecorder, core: CoreRequest, answer: PolicyAnswer): Promise<FastifyReply | void> {
  const { response } = answer;
  Object.assign(recorder.record, { provider: answer.provider, resolvedModel: answer.model, cacheHit: answer.cacheHit, attemptsDetail: [] });
  if (answer.provider) reply.header('x-switchyard-provider', answer.provider);
  reply.header('x-switchyard-model', answer.model);
  const usage = recordUsage(response.usage);
  if (!core.stream) {
    const encoded = format.encodeResponse(response);
    const text = JSON.stringify(encoded);
    await sendJsonWhenRecorded(reply, recorder, { usage, finishReason: format.finishReasonOf(encoded), responseBody: encoded, responseText: text }, text);
    return reply;
  }
  const raw = openEventStream(reply, recorder);
  const encoder = format.streamEncoder({ requestId: recorder.id, model: answer.model, core });
  let out = '';
  for (const event of replayEvents(response)) {
    recorder.streamEvent(event);
    out += encoder.encode(event);
  }
  const encoded = (format.encodeStreamed ?? format.encodeResponse)(response);
  out += encoder.finish();
  recorder.succeeded({ usage, finishReason: format.finishReasonOf(encoded), responseBody: encoded, firstContentAt: Date.now() }, () => raw.end(out));
}
