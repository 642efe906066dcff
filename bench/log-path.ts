/**
 * The request log's cost on the event loop alone: records like the benchmark's chat
 * completions handed to a real request log (journal files, writer thread) `perTurn` at a time
 * in each turn of the event loop, as the gateway's observer receives them, and the CPU time of
 * the main thread only (/proc schedstat, nanoseconds) per record — journal line, journal
 * write, hand-off to the writer thread and the garbage they leave; the writer thread's work
 * is not counted. Far steadier than the whole gateway on a shared machine.
 * `npx tsx bench/log-path.ts [records] [perTurn] [only ways named with this]`; each way runs alternately, least of 7 rounds:
 *   held + texts    the JSON path: answers held for one journal write per turn, bodies as the texts the gateway holds
 *   held + objects  the same with the bodies as objects (cloned by postMessage)
 *   unheld + texts  one journal write per record (a stream's end)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBodyTexts } from '../src/main/core/record.js';
import { openRequestLog } from '../src/main/storage/request-log.js';
import type { StoredRequestRecord } from '../src/main/storage/stored-record.js';
import { benchRecord } from './bench-record.js';

const total = Number(process.argv[2] ?? 20000);
const perTurn = Number(process.argv[3] ?? 5);
/** Only the ways whose name contains this (for a profile of one). */
const only = process.argv[4] ?? '';

/** CPU time of this thread (the event loop), in ns. */
function threadCpuNs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

type Way = { name: string; held: boolean; texts: boolean };
const ways: Way[] = [
  { name: 'held + texts', held: true, texts: true },
  { name: 'held + objects', held: true, texts: false },
  { name: 'unheld + texts', held: false, texts: true },
].filter((way) => way.name.includes(only));

async function run(way: Way): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-log-path-'));
  const log = openRequestLog(directory, { flushIntervalMs: 50 });
  // As the gateway has them: each record's bodies, and their texts (made before the timing).
  const records: Array<{ record: StoredRequestRecord; texts: RecordBodyTexts | undefined }> = Array.from({ length: total }, (_, index) => {
    const record = benchRecord(index);
    record.upstreamRequestBody = { ...(record.requestBody as object), model: 'gpt-4.1-mini' };
    const texts = way.texts ? { requestBody: JSON.stringify(record.requestBody), upstreamRequestBody: JSON.stringify(record.upstreamRequestBody), responseBody: JSON.stringify(record.responseBody) } : undefined;
    return { record, texts };
  });
  let answered = 0;
  const answer = (): void => {
    answered += 1;
  };
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = threadCpuNs();
  for (let start = 0; start < total; start += perTurn) {
    for (let index = start; index < start + perTurn && index < total; index++) {
      const { record, texts } = records[index]!;
      if (way.held) log.observer.requestFinishedBeforeAnswer!(record, answer, texts);
      else log.observer.requestFinished(record, texts);
    }
    // The end of the turn (journal write, answers, hand-off) runs in this setImmediate's phase.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const cpu = threadCpuNs() - before;
  if (way.held && answered !== total) throw new Error(`${answered} of ${total} answered`);
  await log.close();
  rmSync(directory, { recursive: true, force: true });
  return cpu / total / 1000;
}

const results = new Map<string, number[]>(ways.map((way) => [way.name, []]));
for (let round = 0; round < 7; round++) {
  for (const way of ways) results.get(way.name)!.push(await run(way));
}
for (const [name, values] of results) {
  const sorted = [...values].sort((a, b) => a - b);
  process.stdout.write(`${name}: ${sorted[0]!.toFixed(2)} µs/record on the event loop (least of ${values.length}; median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}), ${perTurn} per turn\n`);
}
