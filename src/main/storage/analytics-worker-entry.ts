/**
 * The analytics worker thread: opens its own read-only connection to the log and answers
 * query messages from analytics-worker.ts, so heavy reads never run on the gateway's
 * event loop. Started by createAnalyticsClient; not imported anywhere else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAnalytics, type Analytics } from './analytics.js';
import { openReadOnlyDatabase } from './database.js';
import { startMemoryReport } from '../memory-report.js';

export interface AnalyticsRequestMessage {
  id: number;
  method: keyof Analytics;
  arguments: unknown[];
}

export type AnalyticsResponseMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

const port = parentPort;
if (!port) throw new Error('analytics-worker-entry must run in a worker thread');

const { databaseFile } = workerData as { databaseFile: string };
const database = openReadOnlyDatabase(databaseFile);
startMemoryReport('analytics');
const analytics = createAnalytics(database);

port.on('message', (message: AnalyticsRequestMessage) => {
  let response: AnalyticsResponseMessage;
  try {
    const method = analytics[message.method] as (...parameters: unknown[]) => unknown;
    if (typeof method !== 'function') throw new Error(`unknown analytics method ${String(message.method)}`);
    response = { id: message.id, ok: true, result: method(...message.arguments) };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    response = { id: message.id, ok: false, error: { name: failure.name, message: failure.message } };
  }
  port.postMessage(response);
});
