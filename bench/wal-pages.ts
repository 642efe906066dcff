/**
 * Which B-trees the request writer's commits dirty: writes batches of the benchmark's records
 * into a fresh log, then reads the WAL's frame headers (page numbers) and names each page's
 * B-tree with dbstat. Prints pages per batch by B-tree.
 * `npx tsx bench/wal-pages.ts [batch size] [batches] [--conversations | --one-conversation]` (--one-conversation:
 * every record in one conversation, as the gateway benchmark's requests are; the default's 50 interleaved
 * conversations cost a leaf of the conversation index each per batch)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/main/storage/database.js';
import { createRequestWriter } from '../src/main/storage/request-writer.js';
import { benchConversationRecord, benchRecord } from './bench-record.js';

const numbers = process.argv.slice(2).filter((argument) => /^\d+$/.test(argument));
const batch = Number(numbers[0] ?? 50);
const batches = Number(numbers[1] ?? 40);
const record = process.argv.includes('--conversations') ? benchConversationRecord : process.argv.includes('--one-conversation') ? (index: number) => ({ ...benchRecord(index), conversationId: 'c_bench' }) : benchRecord;
const directory = mkdtempSync(join(tmpdir(), 'switchyard-wal-pages-'));
const database = openDatabase(directory);
database.pragma('wal_autocheckpoint = 0');
const writer = createRequestWriter(database, { flushIntervalMs: 0, maxBatchSize: batch });
let index = 0;
function writeBatches(count: number): void {
  for (let round = 0; round < count; round++) {
    for (let item = 0; item < batch; item++) writer.enqueue(record(index++));
    writer.flush();
  }
}
writeBatches(200); // a warm log: tables past their first pages
database.pragma('wal_checkpoint(TRUNCATE)');
writeBatches(batches);
const wal = readFileSync(join(directory, 'switchyard.db-wal'));
const pageSize = wal.readUInt32BE(8);
const pages: number[] = [];
for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) pages.push(wal.readUInt32BE(offset));
const owner = new Map<number, string>();
for (const row of database.prepare('SELECT name, pageno FROM dbstat').all() as Array<{ name: string; pageno: number }>) owner.set(row.pageno, row.name);
const counts = new Map<string, number>();
for (const page of pages) {
  const name = owner.get(page) ?? (page === 1 ? 'page 1 (header)' : 'other (pointer map, free)');
  counts.set(name, (counts.get(name) ?? 0) + 1);
}
process.stdout.write(`${batches} batches of ${batch}: ${(pages.length / batches).toFixed(1)} pages per batch\n`);
for (const [name, count] of [...counts].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${name.padEnd(34)} ${(count / batches).toFixed(2)}\n`);
writer.close();
database.close();
rmSync(directory, { recursive: true, force: true });
