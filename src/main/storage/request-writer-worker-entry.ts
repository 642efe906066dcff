/**
 * The request writer's thread: owns a write connection to the log and runs the batched
 * writer (costing, content addressing, rollups) there, so a 256-record transaction never
 * holds the gateway's event loop. Fed by threaded-request-writer.ts; imported nowhere else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPriceBook, type PriceOverrides } from '../pricing/catalog.js';
import { startMemoryReport } from '../memory-report.js';
import { BACKGROUND_THREAD_NICE, lowerThreadPriority } from './worker-threads.js';
import { openDatabase } from './database.js';
import { createRequestWriter } from './request-writer.js';
import type { RecordOnTheWire } from './stored-record.js';

export type WriterThreadMessage =
  | { type: 'records'; records: RecordOnTheWire[]; lastSequence: number }
  | { type: 'price-overrides'; overrides: PriceOverrides }
  | { type: 'store-bodies'; storeBodies: boolean }
  | { type: 'flush'; lastSequence: number }
  | { type: 'close' };

export type WriterThreadReply =
  /** Everything up to lastSequence was handled; `complete` is false when some record could not be written. */
  | { type: 'committed'; lastSequence: number; complete: boolean }
  | { type: 'error'; message: string }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('request-writer-worker-entry must run in a worker thread');

/**
 * The log is bookkeeping: when the machine's cores are all busy, the gateway's event loop (the
 * answers) and the clients go first, and the writer takes what is left. It still keeps up
 * whenever the cores have room, and what waits for it is in the journal, so nothing is lost. On
 * cores saturated by other work a nice-10 thread gets about a tenth of a core's share and falls
 * behind; the request log's backpressure (request-log.ts BACKLOG_LIMIT) then slows the answers to
 * its pace. A 2-core machine under the bench's load: JSON about +5 % (−2.5 to +14 % run to run),
 * streams +3-7 %, the log committed within 0.1 s of the load's end either way (docs/benchmarks.md,
 * twelfth session).
 */
lowerThreadPriority(BACKGROUND_THREAD_NICE);

/**
 * A nice value weighs the shares, but Linux's scheduler lets a running thread finish its slice
 * (about 1–3 ms) before a thread that woke takes the core: under the bench's load the event loop
 * spent 18 % of its time runnable and waiting, much of it behind the writer. So the writer sleeps
 * for a moment once WRITER_PAUSE_AFTER_MS have passed on a flush since its last pause (between two
 * records): a thread waiting for the core gets it then, and a core nobody waits for is back to the
 * writer in ~60 µs (mostly the kernel's timer slack; `Atomics.wait` is the only sleep a thread has
 * that is this short, and with a timeout under ~5 µs it sometimes returns without sleeping). The
 * idle scheduling class (SCHED_IDLE) gave the same, but it cannot be left without a privilege, and
 * a busy program of the same scheduling group starved the writer (answers held a second by the
 * backpressure). Measured in docs/benchmarks.md, fourteenth session.
 */
const WRITER_PAUSE_AFTER_MS = 0.25;
const PAUSE_TIMEOUT_MS = 0.005;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const pause = { afterMs: WRITER_PAUSE_AFTER_MS, run: () => void Atomics.wait(sleepCell, 0, 0, PAUSE_TIMEOUT_MS) };

const options = workerData as { dataDirectory: string; priceOverrides: PriceOverrides; storeBodies: boolean; flushIntervalMs: number };
// A 4 MiB page cache: the writer touches the right-hand edges of its tables and indexes, and
// pages it misses are in the OS's file cache; 16 MiB here cost ~15 MB of resident memory
// under load with no measurable saving of writer CPU (docs/benchmarks.md, third session).
const database = openDatabase(options.dataDirectory, { cacheSizeKibibytes: 4096 });
startMemoryReport('writer');
let received = 0;
const writer = createRequestWriter(database, {
  priceBook: createPriceBook(options.priceOverrides),
  storeBodies: options.storeBodies,
  flushIntervalMs: options.flushIntervalMs,
  onError: (error) => port.postMessage({ type: 'error', message: error.message } satisfies WriterThreadReply),
  pause,
  onFlushed: (complete) => port.postMessage({ type: 'committed', lastSequence: received, complete } satisfies WriterThreadReply),
});

port.on('message', (message: WriterThreadMessage) => {
  switch (message.type) {
    case 'records':
      // Rebuilt when their batch is written (a record whose bodies will not parse is stored from its journal line then, and reported).
      for (const item of message.records) writer.enqueue(item);
      received = message.lastSequence;
      return;
    case 'price-overrides':
      writer.setPriceBook(createPriceBook(message.overrides));
      return;
    case 'store-bodies':
      writer.setStoreBodies(message.storeBodies);
      return;
    case 'flush':
      writer.flush();
      return;
    case 'close':
      writer.close();
      database.close();
      port.postMessage({ type: 'closed' } satisfies WriterThreadReply);
      return;
  }
});
