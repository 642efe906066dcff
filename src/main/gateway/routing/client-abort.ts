/**
 * Cancels the upstream call when the client goes away. Cheaper than an AbortController
 * per request (undici accepts any EventEmitter with `aborted` as its signal); a real
 * AbortSignal is made only when something needs one, e.g. waiting for 'drain'.
 */
import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';

export class ClientAbort extends EventEmitter {
  aborted = false;
  private controller: AbortController | null = null;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
    this.controller?.abort();
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }
}

/** Aborts when the client's connection closes before the response has been written. */
export function abortOnClientClose(reply: FastifyReply): ClientAbort {
  const abort = new ClientAbort();
  const response = reply.raw;
  response.once('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  return abort;
}
