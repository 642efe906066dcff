/**
 * What resolving `previous_response_id` costs a turn as a Responses conversation grows, on the
 * SQLite request log (its writer thread, its journal): a chain of turns is written the way the
 * gateway writes them, and each turn's resolution (withPreviousResponses: the stored-response
 * reads, the chain check, the items written out) is timed on its own.
 *
 *   context  each continued answer is logged with the conversation it ends (what the gateway does)
 *   walk     no contexts are kept, so every turn walks back through all its predecessors (what it did)
 *
 * `npx tsx bench/previous-response-chain.ts [turns] [rounds]`: prints, per mode, the CPU time
 * (process.cpuUsage: all threads, the writer idle while resolving) of the resolution at a few
 * turn numbers (median of `rounds` chains, and the spread) and the store reads it made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPreviousResponses } from '../src/main/gateway/formats/openai-responses/previous-response.js';
import type { ResponsesRequestWire } from '../src/main/gateway/formats/openai-responses/schema.js';
import { openRequestLog } from '../src/main/storage/request-log.js';
import { sqliteStoredResponses, type StoredResponses } from '../src/main/storage/stored-responses.js';
import type { StoredRequestRecord } from '../src/main/storage/stored-record.js';
import { benchRecord } from './bench-record.js';

const turns = Number(process.argv[2] ?? 400);
const rounds = Number(process.argv[3] ?? 3);
const marks = [10, 50, 100, 200, 400, 800].filter((mark) => mark <= turns);

/** A logged Responses answer: the bench record with this turn's bodies and ids. */
function record(index: number, requestBody: Record<string, unknown>, responseBody: Record<string, unknown>, responseId: string): StoredRequestRecord {
  return { ...benchRecord(index), id: `request-${responseId}`, endpoint: '/v1/responses', conversationId: 'bench-chain', requestBody, upstreamRequestBody: null, responseBody, responseId };
}

async function chain(keepContexts: boolean): Promise<Map<number, Measured>> {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-chain-bench-'));
  const log = openRequestLog(directory, { onError: (error) => console.error('log error', error) });
  const inner = sqliteStoredResponses(log.database);
  let reads = 0;
  const split = { find: 0, links: 0 };
  const store: StoredResponses = {
    find: async (id) => {
      reads += 1;
      const before = process.cpuUsage();
      const found = await inner.find(id);
      const spent = process.cpuUsage(before);
      split.find += spent.user + spent.system;
      return found;
    },
    links: async (ids) => {
      reads += 1;
      const before = process.cpuUsage();
      const links = await inner.links(ids);
      const spent = process.cpuUsage(before);
      split.links += spent.user + spent.system;
      return links;
    },
    delete: (id, at) => inner.delete(id, at),
  };
  const measured = new Map<number, Measured>();
  let previous: string | null = null;
  try {
    for (let index = 1; index <= turns; index += 1) {
      const wire = { model: 'gpt-4.1', input: `Turn ${index}: please look at the next file and say what it does. `.repeat(3), ...(previous ? { previous_response_id: previous } : {}) } as ResponsesRequestWire;
      reads = 0;
      split.find = 0;
      split.links = 0;
      const before = process.cpuUsage();
      const resolved = await withPreviousResponses(wire, store, null);
      const spent = process.cpuUsage(before);
      if (marks.includes(index)) measured.set(index, { cpuMicros: spent.user + spent.system, reads, findMicros: split.find, linksMicros: split.links });
      const responseId = `resp_bench_${index}_${keepContexts ? 'c' : 'w'}`;
      const output = [{ type: 'message', id: `msg_${index}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `The file ${index} exports a helper that formats dates. `.repeat(8), annotations: [] }] }];
      const stored = record(index, wire as Record<string, unknown>, { id: responseId, object: 'response', status: 'completed', output }, responseId);
      if (keepContexts && resolved.chain) stored.responseContext = { items: [...(resolved.wire.input as unknown[]), ...output], chain: resolved.chain };
      log.observer.requestFinished(stored);
      await log.committed();
      previous = responseId;
    }
  } finally {
    await log.close();
    rmSync(directory, { recursive: true, force: true });
  }
  return measured;
}

interface Measured {
  cpuMicros: number;
  reads: number;
  /** Of cpuMicros: reading the stored response(s), and the chain check. */
  findMicros: number;
  linksMicros: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const results: Record<'context' | 'walk', Array<Map<number, Measured>>> = { context: [], walk: [] };
// The log's writer thread is unreferenced (it never holds a gateway open): this keeps the process up meanwhile.
const keepAlive = setInterval(() => undefined, 1_000);
// Alternating the two modes, so that both see the same machine.
for (let round = 0; round < rounds; round += 1) {
  results.context.push(await chain(true));
  if (process.env.SWITCHYARD_BENCH_ONLY !== 'context') results.walk.push(await chain(false));
}
clearInterval(keepAlive);
console.log(`previous_response_id resolution, ${turns} turns, ${rounds} chains per mode (CPU µs per turn: median [min–max]; store reads)`);
console.log(['turn', ...marks.map(String)].join('\t'));
for (const mode of ['context', 'walk'] as const) {
  if (results[mode].length === 0) continue;
  const cells = marks.map((mark) => {
    const values = results[mode].map((run) => run.get(mark)!.cpuMicros);
    return `${Math.round(median(values))} [${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}] r${results[mode][0]!.get(mark)!.reads}`;
  });
  console.log([mode, ...cells].join('\t'));
  const parts = marks.map((mark) => {
    const runs = results[mode].map((run) => run.get(mark)!);
    return `find ${Math.round(median(runs.map((run) => run.findMicros)))} links ${Math.round(median(runs.map((run) => run.linksMicros)))}`;
  });
  console.log([`  of which`, ...parts].join('\t'));
}
