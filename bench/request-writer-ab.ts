/**
 * Alternating A/B of two checkouts' request writers in one process: rounds of N records go
 * to A, then B, then B, then A …, each into its own fresh log, and the CPU time of each round
 * is kept. On a machine shared with other work both see the same load from moment to
 * moment, which separate runs minutes apart do not; the least and the quartiles per record
 * are printed.
 * `npx tsx bench/request-writer-ab.ts <checkout A> <checkout B> [records per round] [rounds] [--conversations | --agent]`
 * (a checkout: a directory with this repository's src/ and bench/, e.g. `git worktree add`
 * or `git archive <commit> | tar -x -C dir`; node_modules is this one's).
 * With --wire each round's records reach the writer as in the gateway: prepared outside the
 * timing as the writer thread receives them (journal line and body texts, v8-serialised as
 * postMessage does), then deserialised and rebuilt with that checkout's recordFromWire inside it.
 * SWITCHYARD_AB_BATCH: records per transaction (default 256).
 * SWITCHYARD_AB_SQL_A / SWITCHYARD_AB_SQL_B: SQL run on that side's log before the rounds
 * (a pragma, `DROP INDEX …`), to measure a schema or setting change on one build.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { journalLine } from '../src/main/storage/journal-pair.js';
import type { RecordOnTheWire, StoredRequestRecord } from '../src/main/storage/stored-record.js';

interface Side {
  name: string;
  directory: string;
  close: () => void;
  write: (prepared: unknown) => void;
  /** What crosses to the writer thread for these records (--wire), else the records. */
  prepare: (records: unknown[]) => unknown;
  record: (index: number) => unknown;
  perRecord: number[];
  /** The log's size in bytes (its pages, the WAL's included). */
  bytes: () => number;
}

const numbers = process.argv.slice(2).filter((argument) => /^\d+$/.test(argument));
const [checkoutA, checkoutB] = process.argv.slice(2).filter((argument) => !/^\d+$/.test(argument) && !argument.startsWith('--'));
const perRound = Number(numbers[0] ?? 2000);
const rounds = Number(numbers[1] ?? 20);
const conversations = process.argv.includes('--conversations');
const agent = process.argv.includes('--agent');
const wire = process.argv.includes('--wire');
// Records per transaction: 256 as the writer's default; SWITCHYARD_AB_BATCH=64 is nearer the gateway's batches (~50 ms of requests).
const BATCH = Number(process.env.SWITCHYARD_AB_BATCH ?? 256);

async function side(name: string, checkout: string, sql: string | undefined): Promise<Side> {
  const root = resolve(checkout);
  const { openDatabase } = (await import(join(root, 'src/main/storage/database.ts'))) as typeof import('../src/main/storage/database.js');
  const { createRequestWriter } = (await import(join(root, 'src/main/storage/request-writer.ts'))) as typeof import('../src/main/storage/request-writer.js');
  const records = (await import(join(root, 'bench/bench-record.ts'))) as Partial<typeof import('./bench-record.js')>;
  const kind = agent ? 'benchAgentRecord' : conversations ? 'benchConversationRecord' : 'benchRecord';
  const record = records[kind];
  if (!record) throw new Error(`${root}/bench/bench-record.ts has no ${kind}`);
  const stored = (await import(join(root, 'src/main/storage/stored-record.ts'))) as typeof import('../src/main/storage/stored-record.js');
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-writer-ab-'));
  const database = openDatabase(directory);
  if (sql) database.exec(sql);
  const writer = createRequestWriter(database, { flushIntervalMs: 0, maxBatchSize: BATCH });
  return {
    name: `${name} ${root}`,
    directory,
    record,
    perRecord: [],
    bytes: () => Number(database.prepare('PRAGMA page_count').pluck().get()) * Number(database.prepare('PRAGMA page_size').pluck().get()),
    prepare(list) {
      if (!wire) return list;
      return serialize(
        (list as StoredRequestRecord[]).map((item) =>
          stored.handedRecord(item, journalLine(item).line, { requestBody: JSON.stringify(item.requestBody), upstreamRequestBody: JSON.stringify(item.upstreamRequestBody), responseBody: JSON.stringify(item.responseBody) }),
        ),
      );
    },
    write(prepared) {
      const list = wire ? (deserialize(prepared as Buffer) as RecordOnTheWire[]).map(stored.recordFromWire) : (prepared as unknown[]);
      for (let start = 0; start < list.length; start += BATCH) {
        for (const item of list.slice(start, start + BATCH)) writer.enqueue(item as Parameters<typeof writer.enqueue>[0]);
        writer.flush();
      }
    },
    close() {
      writer.close();
      database.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

if (!checkoutA || !checkoutB) throw new Error('usage: request-writer-ab.ts <checkout A> <checkout B> [records per round] [rounds] [--conversations]');
const sides = [await side('A', checkoutA, process.env.SWITCHYARD_AB_SQL_A), await side('B', checkoutB, process.env.SWITCHYARD_AB_SQL_B)];
// Two warm-up rounds each, not kept.
for (let round = 0; round < rounds + 2; round += 1) {
  for (const current of round % 2 === 0 ? sides : [...sides].reverse()) {
    const list = current.prepare(Array.from({ length: perRound }, (_unused, index) => current.record(index)));
    const before = process.cpuUsage();
    current.write(list);
    const cpu = process.cpuUsage(before);
    if (round >= 2) current.perRecord.push((cpu.user + cpu.system) / perRound);
  }
}
for (const current of sides) {
  const sorted = [...current.perRecord].sort((left, right) => left - right);
  const at = (share: number) => (sorted[Math.floor(share * (sorted.length - 1))] ?? 0).toFixed(1);
  process.stdout.write(`${current.name}: least ${at(0)}, quartiles ${at(0.25)} / ${at(0.5)} / ${at(0.75)} µs/record (${rounds} rounds of ${perRound}${conversations ? ', conversations' : ''}${agent ? ', agent turns' : ''}${wire ? ', from the wire' : ''}); log ${Math.round(current.bytes() / ((rounds + 2) * perRound))} bytes/record\n`);
  current.close();
}
