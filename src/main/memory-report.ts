/**
 * A diagnostic for accounting the gateway's memory: with SWITCHYARD_MEMORY_REPORT=<file>,
 * each thread that calls startMemoryReport (the main thread of `switchyard serve`, the
 * request writer, the analytics worker) appends one JSON line a second to that file with
 * its own isolate's heap statistics — the main thread cannot read a worker's isolate on
 * Node 20. Off (and free) without the variable. bench/cpu-per-request.ts reads the file.
 */
import { appendFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

export interface MemoryReportLine {
  thread: string;
  /** Bytes, from v8.getHeapStatistics(). */
  heap: { total: number; used: number; physical: number; external: number; malloced: number; peakMalloced: number };
  /** Committed size of each V8 space, in bytes. */
  spaces: Record<string, number>;
}

export function startMemoryReport(thread: string): void {
  const file = process.env.SWITCHYARD_MEMORY_REPORT;
  if (!file) return;
  // node:v8 only when asked: imported at the top it is one more of Node's modules compiled at every start.
  const { getHeapSpaceStatistics, getHeapStatistics } = process.getBuiltinModule('node:v8');
  const name = isMainThread ? thread : `${thread}#${threadId}`;
  const report = (): void => {
    const heap = getHeapStatistics();
    const spaces: Record<string, number> = {};
    for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.space_size;
    const line: MemoryReportLine = {
      thread: name,
      heap: {
        total: heap.total_heap_size,
        used: heap.used_heap_size,
        physical: heap.total_physical_size,
        external: heap.external_memory,
        malloced: heap.malloced_memory,
        peakMalloced: heap.peak_malloced_memory,
      },
      spaces,
    };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // a diagnostic: never let it disturb the gateway
    }
  };
  setInterval(report, 1000).unref();
  report();
}
