/**
 * CPU cost of handing one finished request from the event loop to the writer thread:
 * the journal line plus the structured clone (V8's serializer, which postMessage uses) on
 * the event loop's side, the clone's deserialisation and the record's rebuild on the
 * writer's side. Compares the record cloned whole, its journal line (written anyway) with
 * the bodies as objects, and the journal line with the bodies as the JSON texts the gateway
 * holds (the client's text, the upstream request sent, the answer sent; made here outside
 * the timing, as the gateway has them already), parsed on the writer's side.
 * `npx tsx bench/hand-off.ts [records]`
 */
import { deserialize, serialize } from 'node:v8';
import { journalEntry, journalLine } from '../src/main/storage/journal-pair.js';
import type { RecordBodyTexts } from '../src/main/core/record.js';
import { handedRecord, recordFromWire, type RecordOnTheWire, type StoredRequestRecord } from '../src/main/storage/stored-record.js';
import { benchRecord } from './bench-record.js';

const total = Number(process.argv[2] ?? 20000);
const PER_MESSAGE = 8; // records per postMessage: about one turn of the event loop at 10 connections

type Way = { name: string; send: (records: StoredRequestRecord[]) => Buffer; receive: (message: Buffer) => StoredRequestRecord[] };
const texts = new WeakMap<StoredRequestRecord, RecordBodyTexts>();
const ways: Way[] = [
  {
    name: 'whole record cloned',
    send: (records) => {
      for (const record of records) journalEntry(record);
      return serialize(records);
    },
    receive: (message) => deserialize(message) as StoredRequestRecord[],
  },
  {
    name: 'journal line + bodies',
    send: (records) =>
      serialize(
        records.map((record): RecordOnTheWire => {
          const { line } = journalLine(record);
          return handedRecord(record, line, undefined);
        }),
      ),
    receive: (message) => (deserialize(message) as RecordOnTheWire[]).map(recordFromWire),
  },
  {
    name: 'journal line + body texts',
    send: (records) =>
      serialize(
        records.map((record): RecordOnTheWire => {
          const { line } = journalLine(record);
          return handedRecord(record, line, texts.get(record));
        }),
      ),
    receive: (message) => (deserialize(message) as RecordOnTheWire[]).map(recordFromWire),
  },
];

/** CPU time (this thread and V8's helpers: the script has no other), steadier than wall time on a shared machine. */
function microseconds(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / total;
}

const results = new Map<string, { send: number[]; receive: number[] }>(ways.map((way) => [way.name, { send: [], receive: [] }]));
for (let round = 0; round < 9; round++) {
  for (const way of ways) {
    const records = Array.from({ length: total }, (_, index) => benchRecord(index));
    for (const record of records) texts.set(record, { requestBody: JSON.stringify(record.requestBody), upstreamRequestBody: JSON.stringify(record.upstreamRequestBody), responseBody: JSON.stringify(record.responseBody) });
    const messages: Buffer[] = [];
    let started = process.cpuUsage();
    for (let start = 0; start < total; start += PER_MESSAGE) messages.push(way.send(records.slice(start, start + PER_MESSAGE)));
    const send = microseconds(started);
    started = process.cpuUsage();
    for (const message of messages) way.receive(message);
    const receive = microseconds(started);
    if (round > 1) {
      results.get(way.name)!.send.push(send);
      results.get(way.name)!.receive.push(receive);
    }
  }
}
for (const [name, { send, receive }] of results) {
  process.stdout.write(`${name}: event loop ${Math.min(...send).toFixed(2)} µs/record, writer ${Math.min(...receive).toFixed(2)} µs/record (least of ${send.length}; event loop all: ${send.map((value) => value.toFixed(1)).join(', ')})\n`);
}
