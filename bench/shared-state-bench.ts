/**
 * Shared-state benchmark: what a limit check and a cache lookup cost in process and in Redis
 * (a throwaway `redis-server` on 127.0.0.1, the same machine):
 *  1. one `consume` of a request and a token charge (what every limited request does),
 *     one at a time: latency p50 / p99;
 *  2. the same with 64 in flight: operations per second;
 *  3. the same against a counter already holding 6,000 entries in its minute (100 requests a
 *     second for a minute, every one in a different millisecond: the window the script sums);
 *  4. a response-cache hit and a store of a ~2 kB answer.
 *
 * Run: npx tsx bench/shared-state-bench.ts
 */
import { performance } from 'node:perf_hooks';
import type { CachedAnswer, ResponseCacheStore } from '../src/main/gateway/policies/cache-store.js';
import { MemoryResponseCacheStore } from '../src/main/gateway/policies/cache-store.js';
import type { SharedCounters } from '../src/main/shared-state/counters.js';
import { InProcessCounters } from '../src/main/shared-state/in-process-counters.js';
import { RedisResponseCacheStore } from '../src/main/shared-state/redis-cache-store.js';
import { RedisLink } from '../src/main/shared-state/redis-connection.js';
import { RedisSharedCounters } from '../src/main/shared-state/redis-counters.js';
import { startThrowawayRedis } from '../test/helpers/throwaway-redis.js';

const MINUTE = 60_000;
const SEQUENTIAL = 5_000;
const CONCURRENT_TOTAL = 20_000;
const IN_FLIGHT = 64;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function format(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

async function latency(name: string, count: number, operation: (index: number) => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    await operation(index);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`  ${name.padEnd(52)} p50 ${format(percentile(times, 0.5)).padStart(9)}   p99 ${format(percentile(times, 0.99)).padStart(9)}`);
}

async function throughput(name: string, total: number, operation: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) await operation(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`  ${name.padEnd(52)} ${Math.round(total / seconds).toLocaleString('en-US').padStart(9)} operations/s (${IN_FLIGHT} in flight)`);
}

const charges = (key: string) => [
  { key: `${key}:rpm`, amount: 1, limit: 1e12, windowMs: MINUTE },
  { key: `${key}:tpm`, amount: 250, limit: 1e15, windowMs: MINUTE },
];

async function benchCounters(name: string, counters: SharedCounters): Promise<void> {
  console.log(`${name}: limits (consume of a request and its tokens)`);
  let clock = Date.now();
  await latency('one at a time (its window fills to 5,000 entries)', SEQUENTIAL, () => counters.consume(charges('sequential'), ++clock));
  await throughput('concurrent', CONCURRENT_TOTAL, () => counters.consume(charges('concurrent'), ++clock));
  const start = Date.now();
  for (let index = 0; index < 6_000; index += 1) await counters.add('full:rpm', 1, MINUTE, start - MINUTE + 10 * index + 5);
  await latency('one at a time, 6,000 entries in the window', 1_000, (index) => counters.consume([{ key: 'full:rpm', amount: 1, limit: 1e12, windowMs: MINUTE }], start + (index % 5)));
}

async function benchCache(name: string, store: ResponseCacheStore): Promise<void> {
  const text = 'x'.repeat(2_000);
  const answer: CachedAnswer = {
    response: { id: null, model: 'm', created: 0, choices: [{ index: 0, content: [{ type: 'text', text }], finish: { unified: 'stop', raw: 'stop' } }], usage: null },
    provider: 'p',
    model: 'm',
    storedAt: 0,
  };
  console.log(`${name}: response cache (~2 kB answers)`);
  await latency('store', 2_000, (index) => store.set(`key-${index}`, answer, MINUTE));
  await latency('hit', 2_000, (index) => store.get(`key-${index % 500}`));
}

const redis = await startThrowawayRedis();
const link = new RedisLink(redis.url);
try {
  if (!(await link.ready(5_000))) throw new Error('Redis did not answer');
  await benchCounters('in process', new InProcessCounters());
  await benchCounters('Redis', new RedisSharedCounters(link.client, { namespace: 'bench:' }));
  await benchCache('in process', new MemoryResponseCacheStore({ maxEntries: 1_000, maxBytes: 64 * 1024 * 1024 }));
  await benchCache('Redis', new RedisResponseCacheStore(link.client, { maxEntries: 1_000, maxBytes: 64 * 1024 * 1024, namespace: 'bench-cache:' }));
} finally {
  await link.close();
  await redis.stop();
}
