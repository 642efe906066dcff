/**
 * Two `switchyard serve` processes on one throwaway PostgreSQL, as a team runs them
 * behind a load balancer: one shared request log (export and usage from either, or from
 * the CLI against the database, show both instances' requests; each instance's UI lists
 * the other's), gateway keys created by the CLI or revoked on one instance counting on
 * both by the next request, and a kill -9 under load after which the killed instance's
 * journal replays into PostgreSQL while the other kept serving. Also: a bad URL and an
 * unreachable PostgreSQL stop `serve` at start with a clear message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';
import { runCli, startServe, type ServeProcess } from '../end-to-end/serve-process.js';
import { freeLoopbackPort } from '../helpers/throwaway-server.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';

const KEY = 'sy-team-environment-key';
const ADMIN_TOKEN = 'team-admin-token-0123456789';

describe('two serve instances on one PostgreSQL', () => {
  let server: ThrowawayPostgres;
  let pool: PostgresPool;
  let openai: OpenAIFake;
  let environment: NodeJS.ProcessEnv;
  const folders: string[] = [];
  const running: ServeProcess[] = [];

  const folder = (): string => {
    const created = mkdtempSync(join(tmpdir(), 'switchyard-team-'));
    folders.push(created);
    return created;
  };
  const serve = async (dataDir: string): Promise<ServeProcess> => {
    const started = await startServe(['--data-dir', dataDir], environment);
    running.push(started);
    return started;
  };
  const stop = async (instance: ServeProcess): Promise<void> => {
    instance.child.kill('SIGTERM');
    await instance.exited;
  };
  const chat = async (origin: string, content: string, key = KEY): Promise<{ status: number; id: string | null }> => {
    const response = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content }] }),
    });
    await response.text();
    return { status: response.status, id: response.headers.get('x-switchyard-request-id') };
  };
  const admin = async <T>(origin: string, operation: string, input?: unknown): Promise<T> => {
    const response = await fetch(`${origin}/admin/api/${operation}`, {
      method: 'POST',
      headers: { 'x-switchyard-admin-token': ADMIN_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  /** Waits (a bounded number of checks) until every id is in PostgreSQL; returns the ones still missing. */
  const missingFromLog = async (ids: readonly string[]): Promise<string[]> => {
    let missing = [...ids];
    for (let attempt = 0; attempt < 100 && missing.length > 0; attempt += 1) {
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM requests WHERE id = ANY($1::text[])', [missing]);
      const found = new Set(rows.map((row) => row.id));
      missing = missing.filter((id) => !found.has(id));
      if (missing.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return missing;
  };

  beforeAll(async () => {
    server = await startThrowawayPostgres();
    pool = createPostgresPool(server.url, { max: 2 });
    openai = await startOpenAIFake({ flavor: 'openai', apiKey: 'sk-openai' });
    environment = {
      SWITCHYARD_DATABASE_URL: server.url,
      SWITCHYARD_API_KEY: KEY,
      SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.url,
    };
  }, 60_000);

  afterAll(async () => {
    for (const instance of running) if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGKILL');
    await Promise.all(running.map((instance) => instance.exited));
    await pool?.end();
    await openai?.close();
    await server?.stop();
    for (const created of folders) rmSync(created, { recursive: true, force: true });
  });

  it('refuses to start on a URL that is not PostgreSQL, or a PostgreSQL it cannot reach, saying which and why (password hidden)', async () => {
    const notPostgres = await runCli(['serve', '--port', '0', '--data-dir', folder(), '--database-url', 'mysql://root@127.0.0.1/db'], { ...environment, SWITCHYARD_DATABASE_URL: '' });
    expect(notPostgres.code).toBe(2);
    expect(notPostgres.stderr).toContain('--database-url must be a PostgreSQL URL');
    const closedPort = await freeLoopbackPort();
    const unreachable = await runCli(['serve', '--port', '0', '--data-dir', folder()], {
      ...environment,
      SWITCHYARD_DATABASE_URL: `postgres://team:hunter2secret@127.0.0.1:${closedPort}/switchyard`,
    });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(`cannot use PostgreSQL at postgres://team:***@127.0.0.1:${closedPort}/switchyard`);
    expect(unreachable.stderr).toContain('ECONNREFUSED');
    expect(unreachable.stderr + unreachable.stdout).not.toContain('hunter2secret');
  }, 60_000);

  it('one shared log: a request through each instance is in export and usage from the CLI and in either instance’s UI', async () => {
    const [first, second] = await Promise.all([serve(folder()), serve(folder())]);
    expect(first.output()).toContain('request log and gateway keys in PostgreSQL');
    const one = await chat(first.origin, 'through the first');
    const two = await chat(second.origin, 'through the second');
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(await missingFromLog([one.id!, two.id!])).toEqual([]);

    const exported = await runCli(['export', '--format', 'jsonl'], { SWITCHYARD_DATABASE_URL: server.url });
    expect(exported.code).toBe(0);
    const ids = exported.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(expect.arrayContaining([one.id, two.id]));
    const usage = await runCli(['usage', '--by', 'model', '--database-url', server.url]);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/gpt-4\.1-mini \(openai\)\s+2\s/);

    // Each instance's inspector and dashboards read the shared log: the other's request is there.
    const listed = await admin<{ items: Array<{ id: string }> }>(first.origin, 'requests.list', {});
    expect(listed.items.map((item) => item.id)).toEqual(expect.arrayContaining([one.id, two.id]));
    const detail = await admin<{ id: string; requestBody: { messages: Array<{ content: string }> } }>(first.origin, 'requests.get', { id: two.id });
    expect(detail.requestBody.messages[0]!.content).toBe('through the second');
    const summary = await admin<{ current: { requests: number } }>(second.origin, 'analytics.summary', { from: Date.now() - 3_600_000, to: Date.now() + 1 });
    expect(summary.current.requests).toBe(2);

    // A Responses answer given by one instance is continued by the other (previous_response_id).
    const responses = async (origin: string, body: unknown): Promise<{ status: number; json: { id?: string; error?: unknown } }> => {
      const response = await fetch(`${origin}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as { id?: string } };
    };
    const opened = await responses(first.origin, { model: 'gpt-4.1-mini', input: 'remember the word teal' });
    expect(opened.status).toBe(200);
    const continued = await responses(second.origin, { model: 'gpt-4.1-mini', previous_response_id: opened.json.id, input: 'which word?' });
    expect(continued.status, JSON.stringify(continued.json)).toBe(200);
    // The second instance logged the conversation its answer ends with; the first continues from that alone.
    const third = await responses(first.origin, { model: 'gpt-4.1-mini', previous_response_id: continued.json.id, input: 'and again?' });
    expect(third.status, JSON.stringify(third.json)).toBe(200);
    const sent = openai.requests.filter((request) => request.path === '/v1/responses').at(-1)!.body as { input: Array<{ role?: string; content?: unknown }>; previous_response_id?: string };
    expect(sent.previous_response_id).toBeUndefined();
    const userTexts = sent.input.filter((item) => item.role === 'user').map((item) => item.content);
    expect(userTexts).toEqual(['remember the word teal', 'which word?', 'and again?']);
    expect(sent.input.filter((item) => item.role === 'assistant')).toHaveLength(2);
    const unknown = await responses(second.origin, { model: 'gpt-4.1-mini', previous_response_id: 'resp_unknown', input: 'which word?' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('previous_response_not_found');
    await Promise.all([stop(first), stop(second)]);
  }, 90_000);

  it('a key created by the CLI against the database works on both; revoked on one, the other refuses it at the next request', async () => {
    const [first, second] = await Promise.all([serve(folder()), serve(folder())]);
    const created = await runCli(['gateway-keys', 'create', '--name', 'team-tool', '--database-url', server.url]);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sy-/);
    expect((await chat(first.origin, 'new key on the first', key)).status).toBe(200);
    expect((await chat(second.origin, 'new key on the second', key)).status).toBe(200);

    const keys = await admin<Array<{ id: string; name: string }>>(first.origin, 'gateway-keys.list');
    const record = keys.find((entry) => entry.name === 'team-tool')!;
    await admin(first.origin, 'gateway-keys.revoke', { id: record.id });
    expect((await chat(second.origin, 'revoked elsewhere', key)).status).toBe(401);
    expect((await chat(first.origin, 'revoked here', key)).status).toBe(401);
    await Promise.all([stop(first), stop(second)]);
  }, 90_000);

  it('kill -9 of one instance under load: after its restart every answered request is in PostgreSQL, and the other kept serving', async () => {
    const killedDir = folder();
    const [doomed, survivor] = await Promise.all([serve(killedDir), serve(folder())]);
    const answered = new Set<string>();
    const worker = async (origin: string, index: number, until: () => boolean): Promise<void> => {
      while (!until()) {
        try {
          const result = await chat(origin, `load ${index}`);
          if (result.status === 200 && result.id) answered.add(result.id);
        } catch {
          // The instance was killed mid-request: never answered.
        }
      }
    };
    let killed = false;
    const doomedWorkers = Array.from({ length: 4 }, (_, index) => worker(doomed.origin, index, () => killed));
    for (let check = 0; check < 150 && answered.size < 60; check += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    doomed.child.kill('SIGKILL');
    killed = true;
    await doomed.exited;
    await Promise.all(doomedWorkers);
    expect(answered.size).toBeGreaterThan(20);

    // The survivor keeps answering while the other is down.
    const afterKill: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const result = await chat(survivor.origin, `survivor ${index}`);
      expect(result.status).toBe(200);
      afterKill.push(result.id!);
    }
    expect(await missingFromLog(afterKill)).toEqual([]);

    // A transaction the killed instance had already sent its COMMIT for still completes: wait (bounded) until none runs.
    for (let check = 0; check < 100; check += 1) {
      const { rows: busy } = await pool.query<{ count: number }>(
        "SELECT count(*) AS count FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'",
      );
      if (busy[0]!.count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // What the killed instance had answered but not yet committed is only in its journal.
    const { rows: present } = await pool.query<{ id: string }>('SELECT id FROM requests WHERE id = ANY($1::text[])', [[...answered]]);
    const onlyJournalled = answered.size - present.length;
    const restarted = await serve(killedDir);
    const replayed = Number(/(\d+) answered request\(s\) left in the journal/.exec(restarted.output())?.[1] ?? 0);
    expect(replayed).toBeGreaterThanOrEqual(onlyJournalled);
    expect(await missingFromLog([...answered])).toEqual([]);
    const { rows } = await pool.query<{ id: string; count: number }>('SELECT id, count(*) AS count FROM requests WHERE id = ANY($1::text[]) GROUP BY id HAVING count(*) > 1', [[...answered]]);
    expect(rows).toEqual([]);
    await Promise.all([stop(restarted), stop(survivor)]);
  }, 120_000);
});
