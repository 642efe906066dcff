/**
 * What `previous_response_id` costs a turn as a Responses conversation grows, on the SQLite
 * request log (its writer thread, its journal): a chain of turns is written the way the gateway
 * writes them, and each turn's resolution (withPreviousResponses: one walk back through the
 * chain, the items written out) is timed on its own, beside what the log stores for the turn.
 *
 * `npx tsx bench/previous-response-chain.ts [turns] [rounds]`: prints, at a few turn numbers, the
 * CPU time of the resolution (process.cpuUsage: all threads, the writer idle while resolving;
 * median of `rounds` chains, and the spread), the store reads it made, and the bytes the log
 * stored for that turn (its three bodies, 16 per message link; the upstream body is the whole
 * conversation written out, as a pass-through to OpenAI sends it), and the log's size at the end.
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
function record(index: number, requestBody: Record<string, unknown>, upstreamRequestBody: unknown, responseBody: Record<string, unknown>, responseId: string): StoredRequestRecord {
  return { ...benchRecord(index), id: `request-${responseId}`, endpoint: '/v1/responses', conversationId: 'bench-chain', requestBody, upstreamRequestBody, responseBody, responseId };
}

async function chain(): Promise<Map<number, Measured>> {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-chain-bench-'));
  const log = openRequestLog(directory, { onError: (error) => console.error('log error', error) });
  const inner = sqliteStoredResponses(log.database);
  let reads = 0;
  const store: StoredResponses = {
    find: async (id) => {
      reads += 1;
      return inner.find(id);
    },
    walk: async (id, limit) => {
      reads += 1;
      return inner.walk(id, limit);
    },
    delete: (id, at) => inner.delete(id, at),
  };
  const storedBytes = log.database.prepare(
    `SELECT coalesce(length(b.request_json), 0) + coalesce(length(b.upstream_request_json), 0) + coalesce(length(b.response_json), 0) + coalesce(length(b.context_json), 0)
       + 16 * (SELECT count(*) FROM request_messages m WHERE m.request_seq = r.seq) FROM requests r JOIN bodies b ON b.request_seq = r.seq WHERE r.response_id = ?`,
  ).pluck();
  const measured = new Map<number, Measured>();
  let previous: string | null = null;
  try {
    for (let index = 1; index <= turns; index += 1) {
      const wire = { model: 'gpt-4.1', input: `Turn ${index}: please look at the next file and say what it does. `.repeat(3), ...(previous ? { previous_response_id: previous } : {}) } as ResponsesRequestWire;
      reads = 0;
      const before = process.cpuUsage();
      const resolved = await withPreviousResponses(wire, store, null);
      const spent = process.cpuUsage(before);
      const responseId = `resp_bench_${index}`;
      const output = [{ type: 'message', id: `msg_${index}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `The file ${index} exports a helper that formats dates. `.repeat(8), annotations: [] }] }];
      // Sent upstream as OpenAI's pass-through sends it: the whole conversation written out.
      log.observer.requestFinished(record(index, wire as Record<string, unknown>, resolved.wire, { id: responseId, object: 'response', status: 'completed', output }, responseId));
      await log.committed();
      if (marks.includes(index)) measured.set(index, { cpuMicros: spent.user + spent.system, reads, storedBytes: storedBytes.get(responseId) as number });
      previous = responseId;
    }
    const total = log.database
      .prepare('SELECT (SELECT sum(coalesce(length(request_json), 0) + coalesce(length(upstream_request_json), 0) + coalesce(length(response_json), 0) + coalesce(length(context_json), 0)) FROM bodies) + 16 * (SELECT count(*) FROM request_messages) + (SELECT sum(length(content_json)) FROM messages)')
      .pluck()
      .get() as number;
    console.log(`  the log after ${turns} turns: ${(total / 1e6).toFixed(2)} MB of bodies, message links and messages`);
  } finally {
    await log.close();
    rmSync(directory, { recursive: true, force: true });
  }
  return measured;
}

interface Measured {
  cpuMicros: number;
  reads: number;
  /** What the log stored for the turn: its bodies' texts, and 16 bytes per message link. */
  storedBytes: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const results: Array<Map<number, Measured>> = [];
// The log's writer thread is unreferenced (it never holds a gateway open): this keeps the process up meanwhile.
const keepAlive = setInterval(() => undefined, 1_000);
for (let round = 0; round < rounds; round += 1) results.push(await chain());
clearInterval(keepAlive);
console.log(`previous_response_id resolution, ${turns} turns, ${rounds} chains (CPU µs per turn: median [min–max]; store reads; bytes stored for the turn)`);
console.log(['turn', ...marks.map(String)].join('\t'));
const cells = marks.map((mark) => {
  const values = results.map((run) => run.get(mark)!.cpuMicros);
  const first = results[0]!.get(mark)!;
  return `${Math.round(median(values))} [${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}] r${first.reads} ${first.storedBytes} B`;
});
console.log(['walk', ...cells].join('\t'));
