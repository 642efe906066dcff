/**
 * CPU cost of the request log's writer per record, apart from the gateway: feeds N records
 * like the benchmark's chat completions (bodies, tags, one attempt, usage) through
 * createRequestWriter into a fresh database and prints µs per record.
 * `npx tsx bench/request-writer.ts [records] [batch] [--conversations]` (--conversations: records of
 * 50 interleaved multi-turn chats, benchConversationRecord); run with `node --cpu-prof --import tsx` for a profile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/main/storage/database.js';
import { createRequestWriter } from '../src/main/storage/request-writer.js';
import { benchConversationRecord, benchRecord } from './bench-record.js';

const numbers = process.argv.slice(2).filter((argument) => /^\d+$/.test(argument));
const record = process.argv.includes('--conversations') ? benchConversationRecord : benchRecord;
const total = Number(numbers[0] ?? 20000);
const directory = mkdtempSync(join(tmpdir(), 'switchyard-writer-bench-'));
const database = openDatabase(directory);
const batch = Number(numbers[1] ?? 256);
const writer = createRequestWriter(database, { flushIntervalMs: 0, maxBatchSize: batch });

const rounds: number[] = [];
for (let round = 0; round < 6; round++) {
  const records = Array.from({ length: total }, (_, index) => record(index));
  const cpuBefore = process.cpuUsage();
  for (let start = 0; start < records.length; start += batch) {
    for (const item of records.slice(start, start + batch)) writer.enqueue(item);
    writer.flush();
  }
  const cpu = process.cpuUsage(cpuBefore);
  if (round > 0) rounds.push((cpu.user + cpu.system) / total);
}
process.stdout.write(`writer${record === benchConversationRecord ? ' (conversations)' : ''}: ${total} records per round, CPU ${Math.min(...rounds).toFixed(1)} µs/record (least of ${rounds.length}; all: ${rounds.map((value) => value.toFixed(0)).join(', ')})\n`);
writer.close();
database.close();
rmSync(directory, { recursive: true, force: true });
