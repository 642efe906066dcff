/**
 * SharedCounters in Redis, for several `serve` instances: one Lua script per operation, so
 * a check and its add run inside Redis as one step and 25 requests spread over any number of
 * instances against a limit of 10 let exactly 10 through.
 *
 * The window is exact, as in process: a counter is a sorted set of the milliseconds it was
 * charged at (member and score both the time) beside a hash from each millisecond to the sum
 * charged then, so entries of one millisecond merge and a negative correction lands on the
 * entry it corrects. The hash also keeps the longest window the key was used with (`w`,
 * entries older than it are pruned) and whether a budget was seeded from the log (`s`).
 * Both keys expire once their window has passed, so an abandoned counter cleans itself up.
 *
 * A check sums nothing in the common case (see LUA_COMMON's `sum`).
 *
 * Numbers leave the scripts as strings: Redis would truncate a Lua number reply to an
 * integer, and `%.17g` keeps every digit of a nano-dollar sum.
 */
import type { Redis } from 'ioredis';
import type { ConsumeResult, CounterCharge, SharedCounters } from './counters.js';

/**
 * Functions the scripts share (prepended to each). The hash's `sum` is the total of every
 * entry it holds, kept by `add` and `prune`, so the common check (the key's own window, no
 * entry later than now) reads one field instead of summing the window: a limit of thousands of
 * requests a minute costs the same per check as a limit of ten. Entries are pruned once each.
 */
const LUA_COMMON = `
local function fmt(x) return string.format('%.17g', x) end
local CHUNK = 500
local function amounts_of(h, times)
  local amounts = {}
  for i = 1, #times, CHUNK do
    local chunk = redis.call('HMGET', h, unpack(times, i, math.min(i + CHUNK - 1, #times)))
    for j = 1, #chunk do amounts[#amounts + 1] = tonumber(chunk[j]) or 0 end
  end
  return amounts
end
local function prune(z, h, now, window)
  local w = math.max(tonumber(redis.call('HGET', h, 'w') or '0') or 0, window)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', fmt(now - w))
  if #old == 0 then return w end
  local removed = 0
  for _, amount in ipairs(amounts_of(h, old)) do removed = removed + amount end
  for i = 1, #old, CHUNK do redis.call('HDEL', h, unpack(old, i, math.min(i + CHUNK - 1, #old))) end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', fmt(now - w))
  redis.call('HINCRBYFLOAT', h, 'sum', fmt(-removed))
  return w
end
local function scan_total(z, h, low)
  local sum = 0
  for _, amount in ipairs(amounts_of(h, redis.call('ZRANGEBYSCORE', z, '(' .. fmt(low), '+inf'))) do sum = sum + amount end
  return sum
end
-- The window total at now: every entry later than now - window (later than now too: see counters.ts).
-- After prune(now), every entry held is later than now - w, so for the key's own window it is the sum.
local function total(z, h, now, window, pruned)
  local w = tonumber(redis.call('HGET', h, 'w') or '0') or 0
  if pruned and window >= w then return tonumber(redis.call('HGET', h, 'sum') or '0') or 0 end
  return scan_total(z, h, now - window)
end
-- How long until enough of the oldest entries leave the window for the charge to fit, read oldest first and only as far as needed.
local function time_to_fit(z, h, now, window, amount, limit, current)
  local left = current
  local offset = 0
  while true do
    local times = redis.call('ZRANGEBYSCORE', z, '(' .. fmt(now - window), '+inf', 'LIMIT', offset, 100)
    if #times == 0 then return window end
    local amounts = amounts_of(h, times)
    for j = 1, #times do
      left = left - amounts[j]
      if left + amount <= limit then return math.max(1, tonumber(times[j]) + window - now) end
    end
    offset = offset + #times
  end
end
local function add(z, h, at, amount, window)
  redis.call('HINCRBYFLOAT', h, fmt(at), fmt(amount))
  redis.call('HINCRBYFLOAT', h, 'sum', fmt(amount))
  redis.call('ZADD', z, fmt(at), fmt(at))
  local w = math.max(tonumber(redis.call('HGET', h, 'w') or '0') or 0, window)
  redis.call('HSET', h, 'w', fmt(w))
  local ttl = math.max(redis.call('PTTL', h), w)
  redis.call('PEXPIRE', h, ttl)
  redis.call('PEXPIRE', z, ttl)
end
`;

/** KEYS: sorted set and hash of each charge. ARGV: now, then amount, limit, windowMs per charge. */
const CONSUME = `${LUA_COMMON}
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local totals = {}
for i = 1, n do
  local z, h, window = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[3 * i + 1])
  prune(z, h, now, window)
  totals[i] = total(z, h, now, window, true)
end
local function reply(allowed, refused, retry)
  local out = { allowed, tostring(refused), fmt(retry) }
  for i = 1, n do out[#out + 1] = fmt(totals[i]) end
  return out
end
for i = 1, n do
  local amount, limit, window = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  if totals[i] + amount > limit then
    if amount > limit then return reply('0', i - 1, 0) end
    return reply('0', i - 1, time_to_fit(KEYS[2 * i - 1], KEYS[2 * i], now, window, amount, limit, totals[i]))
  end
end
for i = 1, n do
  local amount, window = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i + 1])
  add(KEYS[2 * i - 1], KEYS[2 * i], now, amount, window)
  totals[i] = totals[i] + amount
end
return reply('1', -1, 0)
`;

/** KEYS: sorted set, hash. ARGV: amount, windowMs, at. */
const ADD = `${LUA_COMMON}
add(KEYS[1], KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[1]), tonumber(ARGV[2]))
return 1
`;

/** KEYS: sorted set, hash. ARGV: windowMs, now. */
const READ = `${LUA_COMMON}
return fmt(total(KEYS[1], KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[1]), false))
`;

/** KEYS: sorted set, hash. ARGV: amount, windowMs, at. Adds only for the first seeder. */
const SEED = `${LUA_COMMON}
if redis.call('HSETNX', KEYS[2], 's', '1') == 0 then return 0 end
local amount, window, at = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if amount ~= 0 then
  add(KEYS[1], KEYS[2], at, amount, window)
else
  redis.call('PEXPIRE', KEYS[2], math.max(redis.call('PTTL', KEYS[2]), window))
end
return 1
`;

type ScriptArgument = string | number;

interface CounterScripts {
  switchyardCountersConsume(keyCount: number, ...keysAndArguments: ScriptArgument[]): Promise<string[]>;
  /** These three take their two keys first (numberOfKeys is fixed). */
  switchyardCountersAdd(...keysAndArguments: ScriptArgument[]): Promise<number>;
  switchyardCountersRead(...keysAndArguments: ScriptArgument[]): Promise<string>;
  switchyardCountersSeed(...keysAndArguments: ScriptArgument[]): Promise<number>;
}

/** A glob that matches exactly the keys starting with `prefix` (SCAN MATCH). */
export function globForPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** Deletes every key matching the glob, a SCAN page at a time (never KEYS: it blocks the server). */
export async function deleteMatching(redis: Redis, glob: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', glob, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export interface RedisCountersOptions {
  /** Prefix of every key this store writes (default `switchyard:counters:`). */
  namespace?: string;
}

export class RedisSharedCounters implements SharedCounters {
  private readonly redis: Redis & CounterScripts;
  private readonly namespace: string;
  /** Keys known to be seeded in Redis; forgotten on every (re)connection, when Redis may have lost its data. */
  private readonly seeded = new Set<string>();

  constructor(redis: Redis, options: RedisCountersOptions = {}) {
    this.namespace = options.namespace ?? 'switchyard:counters:';
    redis.defineCommand('switchyardCountersConsume', { lua: CONSUME });
    redis.defineCommand('switchyardCountersAdd', { lua: ADD, numberOfKeys: 2 });
    redis.defineCommand('switchyardCountersRead', { lua: READ, numberOfKeys: 2 });
    redis.defineCommand('switchyardCountersSeed', { lua: SEED, numberOfKeys: 2 });
    this.redis = redis as Redis & CounterScripts;
    redis.on('ready', () => this.seeded.clear());
  }

  private keys(key: string): [string, string] {
    return [`${this.namespace}${key}|z`, `${this.namespace}${key}|h`];
  }

  async consume(charges: readonly CounterCharge[], now: number): Promise<ConsumeResult> {
    if (charges.length === 0) return { allowed: true, counts: [], refused: -1, retryAfterMs: 0 };
    const keys = charges.flatMap((charge) => this.keys(charge.key));
    const values = charges.flatMap((charge) => [charge.amount, charge.limit, charge.windowMs]);
    const reply = await this.redis.switchyardCountersConsume(keys.length, ...keys, now, ...values);
    const [allowed, refused, retryAfter, ...counts] = reply;
    return { allowed: allowed === '1', refused: Number(refused), retryAfterMs: Number(retryAfter), counts: counts.map(Number) };
  }

  async add(key: string, amount: number, windowMs: number, at: number): Promise<void> {
    await this.redis.switchyardCountersAdd(...this.keys(key), amount, windowMs, at);
  }

  async read(key: string, windowMs: number, now: number): Promise<number> {
    return Number(await this.redis.switchyardCountersRead(...this.keys(key), windowMs, now));
  }

  async seedOnce(key: string, windowMs: number, at: number, amount: () => number | Promise<number>): Promise<void> {
    if (this.seeded.has(key)) return;
    const [sortedSet, hash] = this.keys(key);
    // Most calls find the seed there already: one HEXISTS, and the log is not read.
    if ((await this.redis.hexists(hash, 's')) === 0) await this.redis.switchyardCountersSeed(sortedSet, hash, await amount(), windowMs, at);
    this.seeded.add(key);
  }

  async clear(prefix: string): Promise<void> {
    for (const key of [...this.seeded]) if (key.startsWith(prefix)) this.seeded.delete(key);
    await deleteMatching(this.redis, globForPrefix(`${this.namespace}${prefix}`));
  }
}
