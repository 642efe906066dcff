/**
 * The OpenAI Responses API: `POST /v1/responses` (the format handed to the pipeline, see
 * pipeline/run.ts), and from the request log `GET /v1/responses/{id}` (a stored response),
 * `GET /v1/responses/{id}/input_items` (what it was made from, see input-items.ts) and
 * `DELETE /v1/responses/{id}` (recorded as deleted, the log row kept: not found afterwards).
 *
 * Codex tries the Responses API over a WebSocket first (`GET /v1/responses` with `Upgrade:
 * websocket`). The gateway serves it over HTTP only, and says so the way that makes Codex
 * switch to HTTP at once: `426 Upgrade Required` to the handshake (any other answer, or none,
 * sends Codex through its reconnect retries first). Every upgrade, on any path, is answered so.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import { responsesFormat } from '../formats/openai-responses/index.js';
import { inputItemsPage, type InputItemsQuery } from '../formats/openai-responses/input-items.js';
import { findResponse } from '../formats/openai-responses/previous-response.js';
import type { StoredResponse } from '../../storage/stored-responses.js';
import { runPipeline } from '../pipeline/run.js';
import { sendError } from './send-error.js';

const WEBSOCKET_REFUSAL = new GatewayError(426, 'Switchyard serves the Responses API over HTTP only: POST /v1/responses (with "stream": true for server-sent events). WebSocket is not supported.', {
  type: 'invalid_request_error',
  code: 'websocket_not_supported',
}).toJson();

const UPGRADE_LINGER_MS = 5_000;

/** Answers every protocol upgrade with a 426 and closes the connection, at once. */
export function refuseUpgrades(server: Server): void {
  server.on('upgrade', (_request, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    // The client closes on the 426; one that does not is let go of soon all the same.
    setTimeout(() => socket.destroy(), UPGRADE_LINGER_MS).unref();
    socket.end(
      `HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(WEBSOCKET_REFUSAL)}\r\n\r\n${WEBSOCKET_REFUSAL}`,
    );
  });
}

export function registerResponses(app: FastifyInstance, context: GatewayContext): void {
  refuseUpgrades(app.server);
  app.post('/v1/responses', (request, reply) => runPipeline(context, responsesFormat(context.responses), request, reply));
  const notFound = (id: string): GatewayError => new GatewayError(404, `Response with id '${id}' not found.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_not_found' });
  /** The stored response with its bodies, or the 404 to answer. */
  const withBodies = (id: string, found: StoredResponse | null): StoredResponse | GatewayError => {
    if (!found) return notFound(id);
    if (!found.responseBody || !found.requestBody) {
      return new GatewayError(404, `Response with id '${id}' was logged without its body (storing bodies was off), so it cannot be returned.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_without_body' });
    }
    return found;
  };
  const json = (reply: FastifyReply, body: unknown) => reply.code(200).header('content-type', 'application/json').send(JSON.stringify(body));

  app.get<{ Params: { id: string } }>('/v1/responses/:id', async (request, reply) => {
    const found = withBodies(request.params.id, await findResponse(context.responses, request.params.id, request.gatewayKey));
    return found instanceof GatewayError ? sendError(reply, found) : json(reply, found.responseBody);
  });
  app.get<{ Params: { id: string }; Querystring: InputItemsQuery }>('/v1/responses/:id/input_items', async (request, reply) => {
    const found = withBodies(request.params.id, await findResponse(context.responses, request.params.id, request.gatewayKey));
    if (found instanceof GatewayError) return sendError(reply, found);
    try {
      return json(reply, await inputItemsPage(context.responses!, found, request.gatewayKey ?? null, request.query));
    } catch (error) {
      if (error instanceof GatewayError) return sendError(reply, error);
      throw error;
    }
  });
  app.delete<{ Params: { id: string } }>('/v1/responses/:id', async (request, reply) => {
    const id = request.params.id;
    if (!context.responses || !(await findResponse(context.responses, id, request.gatewayKey))) return sendError(reply, notFound(id));
    await context.responses.delete(id);
    return json(reply, { id, object: 'response', deleted: true });
  });
}
