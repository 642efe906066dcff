/**
 * Latency at one connection, shared by `npm run bench` (bench/run.ts) and bench/tail-latency.ts:
 * sequential requests on one keep-alive connection per target, timed with a microsecond
 * clock, the targets taking turns request by request, in a new order each round (so the
 * machine's other work, and the load generator's own garbage collection, land on all of
 * them alike). The first `warmUp` requests of each target are not counted.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';

export interface LatencyTarget {
  name: string;
  port: number;
  headers?: Record<string, string>;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  samples: number;
  /** Answers other than 200 (timed like the rest: a target that fails fast looks fast). */
  non200: number;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

export async function latencyInterleaved(targets: LatencyTarget[], body: string, count: number, defaultHeaders: Record<string, string>, warmUp = 500): Promise<Record<string, LatencySummary>> {
  const clients = targets.map((target) => new Client(`http://127.0.0.1:${target.port}`, { keepAliveTimeout: 60_000 }));
  const samples: number[][] = targets.map(() => []);
  const failures = targets.map(() => 0);
  // Each round takes the targets in a new order (a fixed-seed shuffle). A fixed rotation made
  // each target nearly always follow the same one: the direct call came right after the full
  // gateway in n-1 of n rounds and paid for the work the gateway does once its answer is
  // out (its p50 0.055 ms above a second direct connection's, docs/benchmarks.md "One
  // connection's p99, sixth session"), which understated what the gateway adds.
  let seed = 0x2545f491;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const order = targets.map((_, which) => which);
  for (let index = 0; index < count + warmUp; index++) {
    for (let at = order.length - 1; at > 0; at--) {
      const other = Math.floor(random() * (at + 1));
      [order[at], order[other]] = [order[other]!, order[at]!];
    }
    for (const which of order) {
      const started = performance.now();
      const response = await clients[which]!.request({ path: '/v1/chat/completions', method: 'POST', headers: targets[which]!.headers ?? defaultHeaders, body });
      await response.body.arrayBuffer();
      const elapsed = performance.now() - started;
      if (response.statusCode !== 200 && index >= warmUp) failures[which]! += 1;
      if (index >= warmUp) samples[which]!.push(elapsed);
    }
  }
  await Promise.all(clients.map((client) => client.close()));
  const results: Record<string, LatencySummary> = {};
  targets.forEach((target, which) => {
    const sorted = samples[which]!.sort((a, b) => a - b);
    results[target.name] = { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted[sorted.length - 1]!, samples: sorted.length, non200: failures[which]! };
  });
  return results;
}
