/** Sends a gateway error as OpenAI's error JSON with its status and headers. */
import type { FastifyReply } from 'fastify';
import type { GatewayError } from '../errors.js';

export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply | void {
  if (reply.sent || reply.raw.headersSent) return;
  if (reply.raw.destroyed) return;
  // 499 is nginx's "client closed request": nobody is left to read it, but it is what we log.
  reply.code(error.status);
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.header('content-type', 'application/json').send(error.toJson());
}
