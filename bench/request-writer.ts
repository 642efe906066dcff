/**
 * CPU cost of the request log's writer per record, apart from the gateway: feeds N records
 * like the benchmark's chat completions (bodies, tags, one attempt, usage) through
 * createRequestWriter into a fresh database and prints µs per record.
 * `npx tsx bench/request-writer.ts [records] [batch] [--conversations | --agent] [--wire]` (--agent: coding-agent turns, benchAgentRecord; --conversations: records of
 * 50 interleaved multi-turn chats, benchConversationRecord; --wire: each record reaches the writer as in the
 * gateway's writer thread — its journal line and body texts, v8-serialised as postMessage does outside the
 * timing, deserialised and rebuilt by recordFromWire inside it); run with `node --cpu-prof --import tsx` for a profile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { openDatabase } from '../src/main/storage/database.js';
import { journalLine } from '../src/main/storage/journal-pair.js';
import { createRequestWriter } from '../src/main/storage/request-writer.js';
import { handedRecord, recordFromWire, type RecordOnTheWire, type StoredRequestRecord } from '../src/main/storage/stored-record.js';
import { benchAgentRecord, benchConversationRecord, benchRecord } from './bench-record.js';

const numbers = process.argv.slice(2).filter((argument) => /^\d+$/.test(argument));
const record = process.argv.includes('--agent') ? benchAgentRecord : process.argv.includes('--conversations') ? benchConversationRecord : benchRecord;
const total = Number(numbers[0] ?? 20000);
const wire = process.argv.includes('--wire');
const directory = mkdtempSync(join(tmpdir(), 'switchyard-writer-bench-'));
const database = openDatabase(directory);
const batch = Number(numbers[1] ?? 256);
const writer = createRequestWriter(database, { flushIntervalMs: 0, maxBatchSize: batch });

function batches(records: StoredRequestRecord[]): StoredRequestRecord[][] {
  const list: StoredRequestRecord[][] = [];
  for (let start = 0; start < records.length; start += batch) list.push(records.slice(start, start + batch));
  return list;
}

function toWire(item: StoredRequestRecord): RecordOnTheWire {
  const texts = { requestBody: JSON.stringify(item.requestBody), upstreamRequestBody: JSON.stringify(item.upstreamRequestBody), responseBody: JSON.stringify(item.responseBody) };
  return handedRecord(item, journalLine(item).line, texts);
}

const rounds: number[] = [];
for (let round = 0; round < 6; round++) {
  const records = Array.from({ length: total }, (_, index) => record(index));
  // What crosses to the writer thread, one message per batch (as the gateway's texts: JSON of each body).
  const messages = wire ? batches(records).map((items) => serialize(items.map(toWire))) : [];
  const cpuBefore = process.cpuUsage();
  const received = wire ? messages.map((message) => (deserialize(message) as RecordOnTheWire[]).map(recordFromWire)) : batches(records);
  for (const items of received) {
    for (const item of items) writer.enqueue(item);
    writer.flush();
  }
  const cpu = process.cpuUsage(cpuBefore);
  if (round > 0) rounds.push((cpu.user + cpu.system) / total);
}
process.stdout.write(`writer${record === benchConversationRecord ? ' (conversations)' : ''}${wire ? ' (from the wire)' : ''}: ${total} records per round, CPU ${Math.min(...rounds).toFixed(1)} µs/record (least of ${rounds.length}; all: ${rounds.map((value) => value.toFixed(0)).join(', ')})\n`);
writer.close();
database.close();
rmSync(directory, { recursive: true, force: true });
