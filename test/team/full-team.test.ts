/**
 * Issue 16's check, as a team runs it: two `switchyard serve` processes started from scratch
 * (both at once, on an empty database) on one throwaway PostgreSQL and one throwaway Redis,
 * a config file with a limit (10 requests a minute on a tag a gateway key carries) and the
 * response cache on, an OpenAI-compatible fake upstream, and clients that are the `openai`
 * SDK. Checked in order, on the same two processes: keys created by the CLI against the
 * database work on both; 25 simultaneous requests split over both against the limit of 10
 * (exactly 10 answered and sent upstream, 15 refused in OpenAI's shape); a cache hit on B
 * for A's answer; a kill -9 of A under load (B keeps serving; A restarted replays its
 * journal); Redis stopped (still answered, with the fallback warning) and restarted on
 * the same port (shared again); and the shared log exported by the CLI with --database-url
 * holding every request from both, none twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { runCli, startServe, type ServeProcess } from '../end-to-end/serve-process.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/throwaway-redis.js';

const ADMIN_TOKEN = 'full-team-admin-token-0123456789';
const UPSTREAM_KEY = 'sk-openai-full-team';

interface Answer {
  status: number;
  id: string | null;
  cache: string | null;
  warnings: string | null;
  content: string | null;
  retryAfter: string | null;
  error: { code?: string | null; type?: string; message?: string } | null;
}

describe('two serve processes on one PostgreSQL and one Redis', () => {
  let postgres: ThrowawayPostgres;
  let redis: ThrowawayRedis;
  let pool: PostgresPool;
  let openai: OpenAIFake;
  let environment: NodeJS.ProcessEnv;
  let configFile: string;
  let first: ServeProcess;
  let second: ServeProcess;
  let firstDir: string;
  const folders: string[] = [];
  const running: ServeProcess[] = [];
  /** Every request either instance gave an id to (answered or refused): the log must hold each once. */
  const logged = new Set<string>();
  const keys = { plain: '', burst: '', outage: '', budget: '' };
  let sequence = 0;

  const folder = (): string => {
    const created = mkdtempSync(join(tmpdir(), 'switchyard-full-team-'));
    folders.push(created);
    return created;
  };
  const serve = async (dataDir: string): Promise<ServeProcess> => {
    const started = await startServe(['--data-dir', dataDir, '--config', configFile], environment);
    running.push(started);
    return started;
  };
  const client = (instance: ServeProcess, key: string): OpenAI => new OpenAI({ apiKey: key, baseURL: `${instance.origin}/v1`, maxRetries: 0, timeout: 30_000 });
  const chat = async (instance: ServeProcess, key: string, content = `full team ${++sequence}`): Promise<Answer> => {
    try {
      const { data, response } = await client(instance, key).chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content }] }).withResponse();
      const answer: Answer = {
        status: response.status,
        id: response.headers.get('x-switchyard-request-id'),
        cache: response.headers.get('x-switchyard-cache'),
        warnings: response.headers.get('x-switchyard-warnings'),
        content: data.choices[0]?.message.content ?? null,
        retryAfter: null,
        error: null,
      };
      if (answer.id) logged.add(answer.id);
      return answer;
    } catch (error) {
      if (!(error instanceof OpenAI.APIError) || error.status === undefined) throw error;
      const id = error.headers?.get('x-switchyard-request-id') ?? null;
      if (id) logged.add(id);
      return { status: error.status, id, cache: null, warnings: null, content: null, retryAfter: error.headers?.get('retry-after') ?? null, error: error.error as Answer['error'] };
    }
  };
  const admin = async <T>(instance: ServeProcess, operation: string, input?: unknown): Promise<T> => {
    const response = await fetch(`${instance.origin}/admin/api/${operation}`, {
      method: 'POST',
      headers: { 'x-switchyard-admin-token': ADMIN_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  const sharedStateOf = async (instance: ServeProcess): Promise<{ backend: string; state: string; message?: string }> =>
    (await admin<{ sharedState: { backend: string; state: string; message?: string } }>(instance, 'gateway.status')).sharedState;
  /** Waits (bounded) until the condition holds; the assertion that follows says what was expected. */
  const eventually = async (condition: () => Promise<boolean>, attempts = 100): Promise<void> => {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  /** Waits (bounded) until every id is in PostgreSQL; returns the ones still missing. */
  const missingFromLog = async (ids: readonly string[]): Promise<string[]> => {
    let missing = [...ids];
    await eventually(async () => {
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM requests WHERE id = ANY($1::text[])', [missing]);
      const found = new Set(rows.map((row) => row.id));
      missing = missing.filter((id) => !found.has(id));
      return missing.length === 0;
    });
    return missing;
  };
  const upstreamCallsWith = (marker: string): number =>
    openai.requests.filter((request) => request.path.endsWith('/chat/completions') && JSON.stringify(request.body).includes(marker)).length;

  beforeAll(async () => {
    // Each kept as soon as it is up, so that afterAll stops it even if another failed to start.
    await Promise.all([
      startThrowawayPostgres().then((started) => (postgres = started)),
      startThrowawayRedis().then((started) => (redis = started)),
      startOpenAIFake({ flavor: 'openai', apiKey: UPSTREAM_KEY }).then((started) => (openai = started)),
    ]);
    pool = createPostgresPool(postgres.url, { max: 2 });
    const configFolder = folder();
    configFile = join(configFolder, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        limits: [
          { name: 'burst', match: { tag: 'team:burst' }, requestsPerMinute: 10 },
          { name: 'outage', match: { tag: 'team:outage' }, requestsPerMinute: 3 },
          // Less than one answer costs: one request spends it.
          { name: 'budget', match: { tag: 'team:budget' }, usdPerDay: '0.000001' },
        ],
        cache: { enabled: true, ttlSeconds: 600 },
      }),
    );
    environment = {
      SWITCHYARD_DATABASE_URL: postgres.url,
      SWITCHYARD_REDIS_URL: redis.url,
      // On a busy 2-core test machine a blocked event loop must not turn a slow Redis answer into a fallback.
      SWITCHYARD_REDIS_COMMAND_TIMEOUT_MS: '5000',
      SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      OPENAI_API_KEY: UPSTREAM_KEY,
      OPENAI_BASE_URL: openai.url,
    };
    // From scratch: both start at once against the empty database (one migrates, the other waits).
    firstDir = folder();
    [first, second] = await Promise.all([serve(firstDir), serve(folder())]);
  }, 90_000);

  afterAll(async () => {
    for (const instance of running) if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGKILL');
    await Promise.all(running.map((instance) => instance.exited));
    await pool?.end();
    await openai?.close();
    await redis?.stop();
    await postgres?.stop();
    for (const created of folders) rmSync(created, { recursive: true, force: true });
  });

  it('started from scratch, both use PostgreSQL and Redis; keys created by the CLI against the database work on both', async () => {
    for (const instance of [first, second]) {
      expect(instance.output()).toContain('request log and gateway keys in PostgreSQL');
      expect(await sharedStateOf(instance)).toMatchObject({ backend: 'redis', state: 'connected' });
    }
    const create = async (name: string, ...flags: string[]): Promise<string> => {
      const created = await runCli(['gateway-keys', 'create', '--name', name, ...flags, '--database-url', postgres.url]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout.trim()).toMatch(/^sy-/);
      return created.stdout.trim();
    };
    [keys.plain, keys.burst, keys.outage, keys.budget] = await Promise.all([
      create('team-tool'),
      create('burst-tool', '--tag', 'team:burst'),
      create('outage-tool', '--tag', 'team:outage'),
      create('budget-tool', '--tag', 'team:budget'),
    ]);
    for (const instance of [first, second]) {
      const answer = await chat(instance, keys.plain);
      expect(answer.status).toBe(200);
      expect(answer.content).toMatch(/^Hello from openai!/);
    }
    const refused = await chat(second, 'sy-not-a-key-of-this-team');
    expect(refused.status).toBe(401);
  }, 60_000);

  it('25 simultaneous requests split over both against a limit of 10: exactly 10 answered and sent upstream, 15 refused in OpenAI’s shape', async () => {
    const marker = `burst-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 25 }, (_, index) => chat(index % 2 === 0 ? first : second, keys.burst, `${marker} ${index}`)));
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 200), JSON.stringify(results.map((result) => [result.status, result.warnings]))).toHaveLength(10);
    const refused = results.filter((result) => result.status === 429);
    expect(refused).toHaveLength(15);
    for (const result of refused) {
      expect(result.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_exceeded', message: expect.any(String) });
      expect(Number(result.retryAfter)).toBeGreaterThan(0);
    }
    expect(upstreamCallsWith(marker)).toBe(10);
    // Counted in Redis by both: no request fell back to an instance's own counters.
    expect(results.every((result) => result.warnings === null)).toBe(true);
  }, 60_000);

  it("answers on B from the cache the answer A gave, without calling the upstream", async () => {
    const text = `cached across instances ${Date.now()}`;
    const given = await chat(first, keys.plain, text);
    expect(given.status).toBe(200);
    expect(given.cache).toBe('miss');
    const calls = upstreamCallsWith(text);
    expect(calls).toBe(1);
    // The answer is stored just after it is sent: B asks until it is there (bounded).
    let hit = await chat(second, keys.plain, text);
    for (let attempt = 0; attempt < 20 && hit.cache !== 'hit'; attempt += 1) hit = await chat(second, keys.plain, text);
    expect(hit.status).toBe(200);
    expect(hit.cache).toBe('hit');
    expect(hit.content).toBe(given.content);
    // A hit is never sent upstream; at most the one ask that raced the store was.
    const afterHit = upstreamCallsWith(text);
    expect(afterHit - calls).toBeLessThanOrEqual(1);
    expect((await chat(second, keys.plain, text)).cache).toBe('hit');
    expect(upstreamCallsWith(text)).toBe(afterHit);
  }, 60_000);

  it('kill -9 of A under load: B keeps serving, A restarted replays its journal, every answered request is in the log once', async () => {
    const answered = new Set<string>();
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed) {
        try {
          const result = await chat(first, keys.plain);
          if (result.status === 200 && result.id) answered.add(result.id);
        } catch {
          // The instance was killed mid-request: never answered.
        }
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());
    // B serves at the same time as A is under load, and after A is gone.
    const fromSecond: string[] = [];
    for (let check = 0; check < 150 && answered.size < 60; check += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    first.child.kill('SIGKILL');
    killed = true;
    await first.exited;
    await Promise.all(workers);
    expect(answered.size).toBeGreaterThan(20);
    for (let index = 0; index < 5; index += 1) {
      const result = await chat(second, keys.plain);
      expect(result.status).toBe(200);
      fromSecond.push(result.id!);
    }
    expect(await missingFromLog(fromSecond)).toEqual([]);

    // A transaction A had already sent its COMMIT for still completes: wait (bounded) until none runs.
    await eventually(async () => {
      const { rows: busy } = await pool.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'",
      );
      return busy[0]!.count === 0;
    }, 50);
    // What A had answered but not committed is only in its journal: its restart writes it before listening.
    const { rows: present } = await pool.query<{ id: string }>('SELECT id FROM requests WHERE id = ANY($1::text[])', [[...answered]]);
    const onlyJournalled = answered.size - present.length;
    first = await serve(firstDir);
    const replayed = Number(/(\d+) answered request\(s\) left in the journal/.exec(first.output())?.[1] ?? 0);
    expect(replayed).toBeGreaterThanOrEqual(onlyJournalled);
    expect(await missingFromLog([...answered])).toEqual([]);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM requests WHERE id = ANY($1::text[]) GROUP BY id HAVING count(*) > 1', [[...answered]]);
    expect(rows).toEqual([]);
    // The restarted instance serves again, on the same shared state.
    expect((await chat(first, keys.plain)).status).toBe(200);
    expect(await sharedStateOf(first)).toMatchObject({ backend: 'redis', state: 'connected' });
  }, 120_000);

  it('Redis stopped: requests still answered with the fallback warning; restarted on the same port: shared again', async () => {
    // A's spend refuses B's next request on a budget: shared through Redis, at once.
    expect((await chat(first, keys.budget)).status).toBe(200);
    let overBudget = await chat(second, keys.budget);
    for (let attempt = 0; attempt < 20 && overBudget.status === 200; attempt += 1) overBudget = await chat(second, keys.budget);
    expect(overBudget.status).toBe(429);
    expect(overBudget.error).toMatchObject({ code: 'budget_exceeded' });

    const port = redis.port;
    await redis.stop();
    await eventually(async () => (await sharedStateOf(second)).state !== 'connected' && (await sharedStateOf(first)).state !== 'connected');
    const status = await sharedStateOf(second);
    expect(status).toMatchObject({ backend: 'redis', state: 'unreachable' });
    expect(status.message).toMatch(/unreachable.*counted by this instance alone/);
    // Each instance says so once on its output, as docs/team.md tells operators.
    for (const instance of [first, second]) expect(instance.output()).toMatch(/switchyard: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);

    // Each instance counts alone: 3 a minute on B.
    const down = await Promise.all(Array.from({ length: 4 }, () => chat(second, keys.outage)));
    expect(down.map((result) => result.status).sort()).toEqual([200, 200, 200, 429]);
    const answered = down.find((result) => result.status === 200)!;
    expect(answered.warnings).toBe('2');
    const detail = await admin<{ warnings: Array<{ message: string }> }>(second, 'requests.get', { id: answered.id });
    expect(detail.warnings.map((warning) => warning.message)).toEqual([
      expect.stringMatching(/^Redis \(redis:\/\/127\.0\.0\.1:\d+\) is unreachable: limits and budgets were counted by this gateway instance alone/),
      expect.stringMatching(/^Redis \(redis:\/\/127\.0\.0\.1:\d+\) is unreachable: the response cache was this gateway instance's own/),
    ]);
    expect((await chat(first, keys.plain)).status).toBe(200);

    // Back on the same port, empty: both use it again, and count together.
    redis = await startThrowawayRedis({ port });
    await eventually(async () => (await sharedStateOf(first)).state === 'connected' && (await sharedStateOf(second)).state === 'connected');
    expect(await sharedStateOf(first)).toMatchObject({ state: 'connected' });
    expect(await sharedStateOf(second)).toMatchObject({ state: 'connected' });
    for (const instance of [first, second]) expect(instance.output().split('is unreachable').at(-1)).toMatch(/switchyard: Shared through Redis at/);
    const again = await Promise.all([chat(first, keys.outage), chat(second, keys.outage), chat(first, keys.outage), chat(second, keys.outage)]);
    expect(again.map((result) => result.status).sort(), JSON.stringify(again.map((result) => [result.status, result.warnings]))).toEqual([200, 200, 200, 429]);
    expect(again.every((result) => result.warnings === null)).toBe(true);
    // The restarted Redis kept nothing: the budget's spend is read again from the shared log in PostgreSQL.
    for (const instance of [first, second]) {
      const refused = await chat(instance, keys.budget);
      expect(refused.status).toBe(429);
      expect(refused.error).toMatchObject({ code: 'budget_exceeded' });
    }
    // And the cache is shared again.
    const text = `cached after Redis came back ${Date.now()}`;
    expect((await chat(second, keys.plain, text)).cache).toBe('miss');
    let hit = await chat(first, keys.plain, text);
    for (let attempt = 0; attempt < 20 && hit.cache !== 'hit'; attempt += 1) hit = await chat(first, keys.plain, text);
    expect(hit.cache).toBe('hit');
  }, 120_000);

  it('the shared log, exported by the CLI with --database-url, holds every request from both instances, none twice', async () => {
    expect(logged.size).toBeGreaterThan(60);
    expect(await missingFromLog([...logged])).toEqual([]);
    const [exported, usage] = await Promise.all([
      runCli(['export', '--format', 'jsonl', '--database-url', postgres.url], { SWITCHYARD_DATABASE_URL: '' }),
      runCli(['usage', '--by', 'tag', '--database-url', postgres.url]),
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const ids = exported.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
    const exportedIds = new Set(ids);
    expect([...logged].filter((id) => !exportedIds.has(id))).toEqual([]);
    expect(usage.code, usage.stderr).toBe(0);
    // The 25 of the burst, in the shared rollups: 10 answered, 15 refused.
    expect(usage.stdout).toMatch(/team:burst\s+25\s+15\s/);
  }, 60_000);
});
