/**
 * The OpenAI Responses API: `POST /v1/responses` (the format handed to the pipeline, see
 * pipeline/run.ts) and `GET /v1/responses/{id}` (a stored response, from the request log).
 *
 * Codex tries the Responses API over a WebSocket first (`GET /v1/responses` with `Upgrade:
 * websocket`). The gateway serves it over HTTP only, and says so the way that makes Codex
 * switch to HTTP at once: `426 Upgrade Required` to the handshake (any other answer, or none,
 * sends Codex through its reconnect retries first). Every upgrade, on any path, is answered so.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import { responsesFormat } from '../formats/openai-responses/index.js';
import { findResponse } from '../formats/openai-responses/previous-response.js';
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
  app.get<{ Params: { id: string } }>('/v1/responses/:id', async (request, reply) => {
    const id = request.params.id;
    const found = await findResponse(context.responses, id, request.gatewayKey);
    if (!found?.responseBody) {
      const error = found
        ? new GatewayError(404, `Response with id '${id}' was logged without its body (storing bodies was off), so it cannot be returned.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_without_body' })
        : new GatewayError(404, `Response with id '${id}' not found.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_not_found' });
      return sendError(reply, error);
    }
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(found.responseBody));
  });
}
