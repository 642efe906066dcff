/**
 * The request log's observer: records reach the database through the writer thread, the
 * journal stays short under load and is replayed after a crash, and close() commits all.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JOURNAL_FILE_NAMES, openRequestLog } from '../../src/main/storage/request-log.js';
import type { RequestRecord } from '../../src/main/gateway/types.js';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import type { StoredRequestRecord } from '../../src/main/storage/stored-record.js';
import { BACKGROUND_THREAD_NICE } from '../../src/main/storage/worker-threads.js';

function record(id: string, startedAt = Date.now()): RequestRecord {
  return {
    id,
    startedAt,
    endedAt: startedAt + 12,
    endpoint: '/v1/chat/completions',
    requestedModel: 'gpt-4.1-mini',
    resolvedModel: 'gpt-4.1-mini',
    provider: 'openai',
    status: 'success',
    httpStatus: 200,
    errorType: null,
    errorMessage: null,
    stream: false,
    usage: { inputTokens: 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
    timeToFirstTokenMs: null,
    latencyMs: 12,
    attempts: 1,
    finishReason: 'stop',
    gatewayKeyId: null,
    user: null,
    conversationId: null,
    tags: [{ key: 'team', value: 'core' }],
    requestBody: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `hello ${id}` }] },
    upstreamRequestBody: null,
    responseBody: { choices: [{ message: { role: 'assistant', content: 'hi' } }] },
    warnings: [],
  };
}

/** A finished request as a script run in a process of its own writes it: its id is the expression `id`. */
function scriptRecord(id: string): string {
  return `{ id: ${id}, startedAt: Date.now(), endedAt: Date.now(), endpoint: '/v1/chat/completions',
    requestedModel: 'gpt-4.1-mini', resolvedModel: 'gpt-4.1-mini', provider: 'openai', status: 'success', httpStatus: 200,
    errorType: null, errorMessage: null, stream: false, usage: null, timeToFirstTokenMs: null, latencyMs: 1, attempts: 1,
    finishReason: 'stop', gatewayKeyId: null, user: null, conversationId: null, tags: [], requestBody: { messages: [] },
    upstreamRequestBody: null, responseBody: null, warnings: [] }`;
}

const folders: string[] = [];
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
  folders.push(path);
  return path;
}
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

describe('request log', () => {
  it('commits records through the writer thread, with cost, and close() leaves nothing behind', async () => {
    const directory = folder();
    const log = openRequestLog(directory, { flushIntervalMs: 5 });
    for (let index = 0; index < 500; index++) log.observer.requestFinished(record(`r${index}`));
    await log.committed();
    expect(log.pendingCount).toBe(0);
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(500);
    const cost = log.database.prepare('SELECT cost_nano_usd FROM requests WHERE id = ?').pluck().get('r1');
    // gpt-4.1-mini: 10 input × 400 + 5 output × 1600 nano-USD.
    expect(cost).toBe(10 * 400 + 5 * 1600);
    await log.close();
    for (const name of JOURNAL_FILE_NAMES) expect(statSync(join(directory, name)).size).toBe(0);
  });

  it('keeps the journal a few batches long under sustained load', async () => {
    const directory = folder();
    const log = openRequestLog(directory, { flushIntervalMs: 5 });
    // Let the writer thread start (it compiles its TypeScript entry under tsx) before the load.
    log.observer.requestFinished(record('warm-up'));
    await log.committed();
    let largest = 0;
    for (let round = 0; round < 40; round++) {
      for (let index = 0; index < 100; index++) log.observer.requestFinished(record(`s${round}-${index}`));
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Halfway, wait for the writer once: however far a busy machine makes it lag, the
      // journal must then rotate, so the bound below does not depend on the machine's load.
      if (round === 20) await log.committed();
      const size = JOURNAL_FILE_NAMES.reduce((sum, name) => sum + statSync(join(directory, name)).size, 0);
      largest = Math.max(largest, size);
    }
    await log.committed();
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(4001);
    // Without rotation the journal would end holding all 4,000 records. With it, the journal
    // holds what the writer has not committed yet: a few rounds on an idle machine, more when
    // the cores are busy and the writer thread lags (how far it lags is the machine's, not the
    // log's), so the bound during the load is only "rotated at all", and the check that
    // matters is after it: once the writer caught up, the journal is back to a batch or two.
    const oneRecord = JSON.stringify({ ...record('x'), requestBody: null, responseBody: null }).length;
    expect(largest).toBeLessThan(oneRecord * 4000);
    log.observer.requestFinished(record('after'));
    await log.committed();
    const settled = JOURNAL_FILE_NAMES.reduce((sum, name) => sum + statSync(join(directory, name)).size, 0);
    expect(settled).toBeLessThan(oneRecord * 300);
    await log.close();
  });

  it('replays journalled records that never reached the database, once', async () => {
    const directory = folder();
    const first = openRequestLog(directory);
    first.observer.requestFinished(record('kept'));
    await first.committed();
    await first.close();
    // What a kill leaves behind: journal lines, one already committed, one not, one torn.
    const lines = [record('kept'), record('lost-1'), record('lost-2')].map((entry) => JSON.stringify({ ...entry, requestBody: null, responseBody: null }));
    writeFileSync(join(directory, JOURNAL_FILE_NAMES[0]), lines.join('\n') + '\n{"id":"torn",');
    const second = openRequestLog(directory);
    expect(second.replayed).toBe(2);
    const ids = second.database.prepare('SELECT id FROM requests ORDER BY id').pluck().all();
    expect(ids).toEqual(['kept', 'lost-1', 'lost-2']);
    expect(readFileSync(join(directory, JOURNAL_FILE_NAMES[0]), 'utf8')).toBe('');
    await second.close();
    const third = openRequestLog(directory);
    expect(third.replayed).toBe(0);
    await third.close();
  });

  it('close() keeps the process alive until every queued record is committed', () => {
    const directory = folder();
    // A process with nothing else to do: before the fix it exited with the queue unwritten.
    const script = `
      import { openRequestLog } from ${JSON.stringify(join(import.meta.dirname, '../../src/main/storage/request-log.ts'))};
      const log = openRequestLog(${JSON.stringify(directory)});
      for (let index = 0; index < 300; index++) {
        log.observer.requestFinished(${scriptRecord("'c' + index")});
      }
      log.close().then(() => console.log('closed'));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stdout.trim(), run.stderr).toBe('closed');
    const reopened = openRequestLog(directory);
    expect(reopened.replayed).toBe(0);
    expect(reopened.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(300);
    return reopened.close();
  });
  it.runIf(process.platform === 'linux')('runs the writer thread at a lower scheduling priority than the event loop (never raising it), and still commits everything', () => {
    // A process of its own, so that the only threads are the log's and Node's.
    const script = (directory: string): string => `
      import { readdirSync, readFileSync } from 'node:fs';
      import { openRequestLog } from ${JSON.stringify(join(import.meta.dirname, '../../src/main/storage/request-log.ts'))};
      const nice = () => readdirSync('/proc/self/task').map((task) => {
        const stat = readFileSync('/proc/self/task/' + task + '/stat', 'utf8');
        return { task: Number(task), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
      });
      const log = openRequestLog(${JSON.stringify(directory)});
      for (let index = 0; index < 50; index++) {
        log.observer.requestFinished(${scriptRecord("'n' + index")});
      }
      const alive = setInterval(() => {}, 1000); // the writer thread is unref'd: keep the process up while waiting for it
      await log.committed();
      const threads = nice();
      clearInterval(alive);
      console.log(JSON.stringify({ pid: process.pid, threads, rows: log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get() }));
      await log.close();
    `;
    const threadsOf = (command: string, args: string[]) => {
      const run = spawnSync(command, [...args, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script(folder())], { encoding: 'utf8', timeout: 30_000 });
      expect(run.status, run.stderr).toBe(0);
      return JSON.parse(run.stdout.trim().split('\n').pop()!) as { pid: number; threads: Array<{ task: number; nice: number }>; rows: number };
    };
    // The priority this test runs at (0 unless the runner was started under `nice`).
    const base = getPriority();
    const { pid, threads, rows } = threadsOf('env', []);
    expect(rows).toBe(50);
    // The event loop keeps the process's priority; exactly one thread (the writer) is at BACKGROUND_THREAD_NICE.
    expect(threads.find((thread) => thread.task === pid)?.nice).toBe(base);
    if (base < BACKGROUND_THREAD_NICE) {
      expect(threads.filter((thread) => thread.nice === BACKGROUND_THREAD_NICE)).toHaveLength(1);
      expect(threads.filter((thread) => thread.nice !== base && thread.nice !== BACKGROUND_THREAD_NICE)).toEqual([]);
    }
    // A gateway started at a lower priority than that keeps it in every thread: the writer's is never raised.
    const lowered = threadsOf('nice', ['-n', '15']);
    expect(lowered.rows).toBe(50);
    expect(new Set(lowered.threads.map((thread) => thread.nice))).toEqual(new Set([Math.min(19, base + 15)]));
  });
  it.runIf(process.platform === 'linux' && getPriority() < BACKGROUND_THREAD_NICE && existsSync('/proc/self/schedstat'))('lets the writer thread sleep between records, so a thread waiting for its core gets it', () => {
    // A process of its own. After 200 records (the thread started, its statements prepared), the
    // writer thread's CPU time and voluntary context switches (a sleep is one), then again after
    // 3,000 more. It pauses once 0.25 ms passed on a batch: about two switches per ms of its CPU
    // here, against about 0.1 without the pauses (it then switched only between batches).
    const script = `
      import { readdirSync, readFileSync } from 'node:fs';
      import { openRequestLog } from ${JSON.stringify(join(import.meta.dirname, '../../src/main/storage/request-log.ts'))};
      const log = openRequestLog(${JSON.stringify(folder())});
      const alive = setInterval(() => {}, 1000);
      const writer = () => readdirSync('/proc/self/task').map((task) => ({
        nice: Number(readFileSync('/proc/self/task/' + task + '/stat', 'utf8').split(') ').pop().split(' ')[16]),
        cpuMs: Number(readFileSync('/proc/self/task/' + task + '/schedstat', 'utf8').split(' ')[0]) / 1e6,
        switches: Number(/voluntary_ctxt_switches:\\s+(\\d+)/.exec(readFileSync('/proc/self/task/' + task + '/status', 'utf8'))[1]),
      })).find((thread) => thread.nice === ${BACKGROUND_THREAD_NICE});
      for (let index = 0; index < 200; index++) log.observer.requestFinished(${scriptRecord("'w' + index")});
      await log.committed();
      const before = writer();
      for (let index = 0; index < 3000; index++) log.observer.requestFinished(${scriptRecord("'p' + index")});
      await log.committed();
      const after = writer();
      clearInterval(alive);
      console.log(JSON.stringify({ cpuMs: after.cpuMs - before.cpuMs, switches: after.switches - before.switches, rows: log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get() }));
      await log.close();
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const writer = JSON.parse(run.stdout.trim().split('\n').pop()!) as { cpuMs: number; switches: number; rows: number };
    expect(writer.rows).toBe(3200);
    expect(writer.switches, JSON.stringify(writer)).toBeGreaterThanOrEqual(writer.cpuMs);
  });
  it('stores a record crossing to the writer thread (its journal line and bodies, as objects or texts) exactly as the writer stores it in process', async () => {
    const startedAt = Date.now();
    const client = { model: 'gpt-4.1-mini', user: 'ana', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'héllo ✓ "quoted"\n' }] };
    const full: StoredRequestRecord = {
      ...record('full', startedAt),
      user: 'ana',
      gatewayKeyId: 'key-7',
      usage: { inputTokens: 11, cachedInputTokens: 3, cacheWriteInputTokens: 2, outputTokens: 7, reasoningTokens: 1, cacheWrite1hInputTokens: 1, raw: { prompt_tokens: 11, nested: { authorization: 'secret', list: [1, null, 'x'] } } },
      timeToFirstTokenMs: 5,
      attempts: 2,
      tags: [{ key: 'team', value: 'core' }, { key: 'feature', value: 'review' }],
      warnings: [{ type: 'unsupported-parameter', parameter: 'seed', message: 'seed dropped' }],
      requestBody: client,
      upstreamRequestBody: { ...client, model: 'gpt-4.1-mini-2025' },
      responseBody: { id: 'chatcmpl-9', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 11 } },
      attemptsDetail: [
        { provider: 'openai', model: 'gpt-4.1-mini', startedAt, endedAt: startedAt + 3, latencyMs: 3, httpStatus: 500, status: 'error', errorType: 'upstream_error', errorMessage: 'boom' },
        { provider: 'openai', model: 'gpt-4.1-mini', startedAt: startedAt + 4, endedAt: startedAt + 12, latencyMs: 8, httpStatus: 200, status: 'success', errorType: null, errorMessage: null },
      ],
      traceId: 'trace-1',
      responseId: 'chatcmpl-9',
    };
    const threaded = openRequestLog(folder(), { flushIntervalMs: 5 });
    threaded.observer.requestFinished(full);
    await threaded.committed();
    const direct = openDatabase(folder());
    const writer = createRequestWriter(direct, { flushIntervalMs: 0 });
    writer.enqueue(structuredClone(full));
    writer.flush();
    const contents = (database: SqliteDatabase) => ({
      request: database.prepare('SELECT * FROM requests').all(),
      tags: database.prepare('SELECT key, value FROM request_tags ORDER BY key').all(),
      attempts: database.prepare('SELECT * FROM attempts ORDER BY attempt_index').all(),
      bodies: database.prepare('SELECT * FROM bodies').all(),
      messages: database.prepare('SELECT rm.part, rm.position, m.hash, m.role, m.content_json FROM request_messages rm JOIN messages m ON m.id = rm.message_id ORDER BY rm.part, rm.position').all(),
      conversations: database.prepare('SELECT * FROM conversations').all(),
    });
    // The same record with its bodies as the JSON texts the gateway holds (the client's with its own spacing).
    const textual = openRequestLog(folder(), { flushIntervalMs: 5 });
    let answered = false;
    const texts = { requestBody: JSON.stringify(client, null, 1), upstreamRequestBody: JSON.stringify(full.upstreamRequestBody), responseBody: JSON.stringify(full.responseBody) };
    textual.observer.requestFinishedBeforeAnswer!(full, () => (answered = true), texts);
    await textual.committed();
    expect(answered).toBe(true);
    const stored = contents(threaded.database);
    expect(stored.request).toHaveLength(1);
    expect(stored.attempts).toHaveLength(2);
    expect(stored.messages).toHaveLength(5);
    expect(stored).toEqual(contents(direct));
    expect(contents(textual.database)).toEqual(stored);
    await threaded.close();
    await textual.close();
    direct.close();
  });
  it('holds the answers finished in one turn until one journal write carries all their lines (group commit)', async () => {
    const directory = folder();
    const log = openRequestLog(directory, { flushIntervalMs: 5 });
    const journalled = (): string[] =>
      JOURNAL_FILE_NAMES.flatMap((name) => readFileSync(join(directory, name), 'utf8').split('\n').filter(Boolean)).map((line) => (JSON.parse(line) as { id: string }).id);
    // What each answer found in the journal when it was let go.
    const found = new Map<string, string[]>();
    const ids = ['g0', 'g1', 'g2', 'g3', 'g4'];
    for (const id of ids) log.observer.requestFinishedBeforeAnswer!(record(id), () => found.set(id, journalled()));
    expect(found.size).toBe(0);
    expect(journalled()).toEqual([]);
    expect(log.pendingCount).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    // All five lines were written before the first answer went: one write for the turn.
    expect([...found.keys()]).toEqual(ids);
    for (const id of ids) expect(found.get(id)).toEqual(ids);
    expect(log.pendingCount).toBe(5);

    // An answer the gateway cannot hold (a stream's end) writes its line and the held ones at once.
    let heldAnswered = false;
    log.observer.requestFinishedBeforeAnswer!(record('held'), () => {
      heldAnswered = true;
    });
    log.observer.requestFinished(record('unheld'));
    expect(heldAnswered).toBe(true);
    expect(journalled().slice(-2)).toEqual(['held', 'unheld']);

    // Held answers are let go by committed() and close() too, and nothing is lost.
    let lastAnswered = false;
    log.observer.requestFinishedBeforeAnswer!(record('last'), () => {
      lastAnswered = true;
    });
    await log.committed();
    expect(lastAnswered).toBe(true);
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(8);
    let afterClose = false;
    await log.close();
    log.observer.requestFinishedBeforeAnswer!(record('after-close'), () => {
      afterClose = true;
    });
    expect(afterClose).toBe(true);
  });
  it('requests finished in turns a few ms apart cross to the writer together, after their answers went, and are all stored', async () => {
    const directory = folder();
    const received: number[] = [];
    const log = openRequestLog(directory, {
      flushIntervalMs: 1,
      workerUrl: new URL('./fixtures/counting-writer-entry.ts', import.meta.url),
      onError: (error) => {
        const match = /^received (\d+)$/.exec(error.message);
        if (match) received.push(Number(match[1]));
      },
    });
    let answered = 0;
    for (let index = 0; index < 8; index++) {
      log.observer.requestFinishedBeforeAnswer!(record(`turn${index}`), () => {
        answered += 1;
      });
      // The next turn of the event loop: this answer has gone, not waiting for the hand-off.
      await new Promise((resolve) => setImmediate(resolve));
      expect(answered).toBe(index + 1);
    }
    await log.committed();
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(8);
    expect(received.reduce((sum, count) => sum + count, 0)).toBe(8);
    // Eight turns, fewer messages: the records of consecutive turns crossed together.
    expect(received.length).toBeLessThan(8);
    await log.close();
  });

  it('backpressure: past the backlog limit, answers are journalled at once but go out only as the writer catches up, in order', async () => {
    const directory = folder();
    // A writer that commits every 400 ms, and a limit of 3 records not yet committed.
    const log = openRequestLog(directory, { flushIntervalMs: 400, backlogLimit: { records: 3, characters: 1e9 }, maxAnswerWaitMs: 30_000 });
    const answered: string[] = [];
    const finish = (id: string) => log.observer.requestFinishedBeforeAnswer!(record(id), () => answered.push(id));
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    finish('a1');
    finish('a2');
    await nextTurn();
    // Under the limit: answered at the end of their turn, as ever.
    expect(answered).toEqual(['a1', 'a2']);
    for (const id of ['b1', 'b2', 'b3', 'b4', 'b5']) finish(id);
    await nextTurn();
    // Over it: journalled (safe against a kill) but waiting for the writer.
    expect(answered).toEqual(['a1', 'a2']);
    const journalled = JOURNAL_FILE_NAMES.map((name) => readFileSync(join(directory, name), 'utf8')).join('').split('\n').filter(Boolean);
    expect(journalled.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'b4', 'b5']);
    // A turn finishing while others wait queues behind them, even though it alone would be under the limit.
    await new Promise((resolve) => setTimeout(resolve, 50));
    finish('c1');
    await nextTurn();
    expect(answered).toEqual(['a1', 'a2']);
    // The writer's commit brings the backlog under the limit: every waiting answer goes, in order.
    await vi.waitFor(() => expect(answered).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'b4', 'b5', 'c1']), { timeout: 5_000 });
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(8);
    await log.close();
  });

  it('backpressure: a writer that does not catch up delays answers by at most maxAnswerWaitMs, and the characters of bodies count too', async () => {
    const directory = folder();
    // A writer that would commit only after a minute: the wait's limit lets the answers go.
    const log = openRequestLog(directory, { flushIntervalMs: 60_000, backlogLimit: { records: 1e9, characters: 2_000 }, maxAnswerWaitMs: 150 });
    const answered: string[] = [];
    const small = record('small');
    log.observer.requestFinishedBeforeAnswer!(small, () => answered.push('small'), { responseBody: JSON.stringify(small.responseBody) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toEqual(['small']);
    // An answer of 5,000 characters puts the backlog over 2,000 characters.
    const large = { ...record('large'), responseBody: { choices: [{ message: { role: 'assistant', content: 'x'.repeat(5_000) } }] } };
    const waitStarted = Date.now();
    log.observer.requestFinishedBeforeAnswer!(large, () => answered.push('large'), { responseBody: JSON.stringify(large.responseBody) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toEqual(['small']);
    await vi.waitFor(() => expect(answered).toEqual(['small', 'large']), { timeout: 5_000 });
    expect(Date.now() - waitStarted).toBeGreaterThanOrEqual(140);
    // Nothing was committed meanwhile; close() commits both.
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(0);
    await log.close();
    const reopened = openDatabase(directory);
    expect(reopened.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(2);
    reopened.close();
  });

  it('backpressure: answers do not wait for a writer thread that has ended', async () => {
    const directory = folder();
    const log = openRequestLog(directory, {
      workerUrl: new URL('./fixtures/exiting-writer-entry.ts', import.meta.url),
      backlogLimit: { records: 1, characters: 1e9 },
      maxAnswerWaitMs: 30_000,
    });
    const answered: string[] = [];
    for (const id of ['w1', 'w2', 'w3']) log.observer.requestFinishedBeforeAnswer!(record(id), () => answered.push(id));
    await new Promise((resolve) => setImmediate(resolve));
    // Over the limit: waiting for the writer, which ends when the records reach it (after the 5 ms hand-off).
    expect(answered).toEqual([]);
    // Well before maxAnswerWaitMs (30 s).
    await vi.waitFor(() => expect(answered).toEqual(['w1', 'w2', 'w3']), { timeout: 5_000 });
    // Later answers go at the end of their turn; every record is still in the journal for the next start.
    log.observer.requestFinishedBeforeAnswer!(record('w4'), () => answered.push('w4'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toEqual(['w1', 'w2', 'w3', 'w4']);
    const journalled = JOURNAL_FILE_NAMES.map((name) => readFileSync(join(directory, name), 'utf8')).join('').split('\n').filter(Boolean);
    expect(journalled).toHaveLength(4);
    await log.close();
    // Nothing was committed, so close() keeps the journal, and the next start replays all four.
    const reopened = openRequestLog(directory);
    expect(reopened.replayed).toBe(4);
    expect(reopened.database.prepare('SELECT id FROM requests ORDER BY id').pluck().all()).toEqual(['w1', 'w2', 'w3', 'w4']);
    await reopened.close();
  });

  it('a burst finished in one turn of the event loop crosses in bounded messages, and every record is stored', async () => {
    const directory = folder();
    const log = openRequestLog(directory, { flushIntervalMs: 1 });
    for (let index = 0; index < 300; index++) log.observer.requestFinished(record(`burst${index}`));
    expect(log.pendingCount).toBe(300);
    await log.committed();
    expect(log.database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(300);
    for (let index = 0; index < 3; index++) log.observer.requestFinished(record(`late${index}`));
    await log.close();
    const database = openDatabase(directory);
    expect(database.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(303);
    database.close();
  });
});
