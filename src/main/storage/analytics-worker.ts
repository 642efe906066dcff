/**
 * Runs the analytics queries in a worker thread with its own read-only SQLite connection
 * and exposes them as promises, so a dashboard refresh never blocks the gateway's event
 * loop. One worker serves queries one at a time, in order.
 *
 * Where the worker script comes from:
 * - from source (tsx, vitest: this module's URL ends in `.ts`), the default is
 *   `analytics-worker-entry.ts` beside this file. Node 20 does not apply `--import tsx`
 *   from a Worker's execArgv to the worker's entry, so a `.ts` entry is started through a
 *   small evaluated bootstrap that registers tsx's ESM loader (`tsx/esm/api`, resolved
 *   from this package) and then imports it (tsx is a dev dependency; works under tsx and
 *   vitest alike);
 * - from a bundle, the default is `analytics-worker-entry.js` beside the bundle that
 *   contains this code (`import.meta.url`, or its parent directory when the code sits in
 *   a shared chunk), so the build must emit that entry under that name (for
 *   electron-vite: an extra main-process input named `analytics-worker-entry`);
 * - or pass `workerUrl` explicitly.
 */
import { startWorker, workerEntryUrl } from './worker-threads.js';
import type { Analytics } from './analytics.js';
import type { AnalyticsRequestMessage, AnalyticsResponseMessage } from './analytics-worker-entry.js';

type Asynchronous<T> = {
  [Key in keyof T]: T[Key] extends (...parameters: infer Parameters) => infer Result
    ? (...parameters: Parameters) => Promise<Result>
    : never;
};

export type AnalyticsClient = Asynchronous<Analytics> & {
  /** Stops the worker; pending queries are rejected. */
  close(): Promise<void>;
};

export interface AnalyticsClientOptions {
  /** The worker script; see the module comment for the default. */
  workerUrl?: URL;
  /** Extra Node flags for the worker. */
  execArgv?: string[];
}

export function defaultWorkerUrl(): URL {
  return workerEntryUrl('analytics-worker-entry', import.meta.url);
}

export function createAnalyticsClient(databaseFile: string, options: AnalyticsClientOptions = {}): AnalyticsClient {
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const worker = startWorker(workerUrl, { databaseFile }, options.execArgv ?? []);
  worker.unref();
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failure: Error | null = null;
  let closing: Promise<void> | null = null;

  const rejectAll = (error: Error): void => {
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };

  worker.on('message', (message: AnalyticsResponseMessage) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (message.ok) entry.resolve(message.result);
    else {
      const error = new Error(message.error.message);
      error.name = message.error.name;
      entry.reject(error);
    }
  });
  worker.on('error', (error: Error) => {
    failure = error;
    rejectAll(error);
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`analytics worker exited (code ${code})`);
    rejectAll(failure);
  });

  function call<Result>(method: keyof Analytics, parameters: unknown[]): Promise<Result> {
    if (closing) return Promise.reject(new Error('analytics client is closed'));
    if (failure) return Promise.reject(failure);
    const id = nextId;
    nextId += 1;
    return new Promise<Result>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // Keep the process alive only while a query is in flight.
      worker.ref();
      const message: AnalyticsRequestMessage = { id, method, arguments: parameters };
      worker.postMessage(message);
    });
  }

  return {
    summary: (...parameters) => call('summary', parameters),
    timeSeries: (...parameters) => call('timeSeries', parameters),
    breakdown: (...parameters) => call('breakdown', parameters),
    listConversations: (...parameters) => call('listConversations', parameters),
    conversation: (...parameters) => call('conversation', parameters),
    close(): Promise<void> {
      closing ??= (async () => {
        rejectAll(new Error('analytics client is closed'));
        await worker.terminate();
      })();
      return closing;
    },
  };
}
