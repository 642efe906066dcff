/**
 * The HTTP admin API: the same operations as the desktop's IPC, for the UI served at
 * `/ui/` by `switchyard serve` and for browser tests. `POST /admin/api/<operation>` takes
 * the operation's input as JSON and answers its output; `GET /admin/api/events` streams
 * the contract's events as SSE. Every admin route needs the admin token in
 * `x-switchyard-admin-token` (checked here, in constant time: these routes are marked
 * public so the gateway-key check skips them); Host and Origin checks still apply.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOperationName, type OperationFailure, type OperationName } from '../../shared/contract.js';
import { redactSecrets } from '../secrets/redact.js';
import type { EventHub } from '../services/event-hub.js';
import { OperationError } from '../services/operation-error.js';
import type { OperationHandlers } from '../services/service-context.js';
import { ADMIN_TOKEN_HEADER, AdminTokenCheck } from './admin-token.js';
import { registerStaticFiles } from './static-files.js';

export interface AdminOptions {
  services: OperationHandlers;
  events: EventHub;
  token: string;
  /** The built renderer (`out/renderer`), or null when not built. */
  rendererDir: string | null;
}

const HEARTBEAT_MS = 15_000;
/** A client this far behind is dropped; it reconnects and reloads what it shows. */
const MAXIMUM_BUFFERED_BYTES = 8 * 1024 * 1024;

function failure(reply: FastifyReply, status: number, message: string, code: string): FastifyReply {
  const body: OperationFailure = { error: { message, code } };
  return reply.code(status).header('cache-control', 'no-store').header('content-type', 'application/json').send(JSON.stringify(body));
}

export function registerAdmin(app: FastifyInstance, options: AdminOptions): void {
  const check = new AdminTokenCheck(options.token);
  const streams = new Set<FastifyReply['raw']>();
  const authorised = (request: FastifyRequest): boolean => check.matches(request.headers[ADMIN_TOKEN_HEADER]);

  registerStaticFiles(app, options.rendererDir);

  app.post('/admin/api/:operation', { config: { public: true } }, async (request, reply) => {
    if (!authorised(request)) return failure(reply, 401, 'The admin token is missing or wrong. Open the UI from the address `switchyard serve` printed.', 'invalid_admin_token');
    const name = (request.params as { operation: string }).operation;
    if (!isOperationName(name)) return failure(reply, 404, `Unknown operation "${name}".`, 'unknown_operation');
    const handler = options.services[name as OperationName] as (input: unknown) => Promise<unknown>;
    try {
      const output = await handler(request.body ?? undefined);
      return reply.header('cache-control', 'no-store').header('content-type', 'application/json').send(JSON.stringify(output ?? null));
    } catch (error) {
      if (error instanceof OperationError) return failure(reply, error.status, error.message, error.code);
      // A stack's message may quote a key (an upstream's echo, a malformed header): masked like every log line.
      process.stderr.write(`switchyard: operation ${name} failed: ${redactSecrets((error as Error)?.stack ?? String(error))}\n`);
      return failure(reply, 500, `The operation ${name} failed inside Switchyard.`, 'internal_error');
    }
  });

  app.get('/admin/api/events', { config: { public: true } }, (request, reply) => {
    if (!authorised(request)) return failure(reply, 401, 'The admin token is missing or wrong.', 'invalid_admin_token');
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': connected\n\n');
    streams.add(raw);
    const unsubscribe = options.events.subscribe((name, payload) => {
      if (raw.writableLength > MAXIMUM_BUFFERED_BYTES) {
        raw.destroy();
        return;
      }
      raw.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
    });
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    raw.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(raw);
    });
  });

  // Event streams never end by themselves: end them so closing the server does not wait on them.
  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.end();
    streams.clear();
    done();
  });
}
