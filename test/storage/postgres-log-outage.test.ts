/**
 * The PostgreSQL request log when PostgreSQL goes away or stalls (through a TCP relay in
 * front of a throwaway server): answers keep going, memory stays bounded (records past the
 * limit are let go to the journal and written from it once PostgreSQL is back), retries are
 * paced, and nothing answered is lost.
 */
import { writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPostgresPool, type PostgresPool } from '../../src/main/storage/postgres/connection.js';
import { migratePostgres } from '../../src/main/storage/postgres/migrations.js';
import { openPostgresRequestLog } from '../../src/main/storage/postgres/request-log.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

describe('the PostgreSQL request log when PostgreSQL goes away', () => {
  let server: ThrowawayPostgres;
  let direct: PostgresPool;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    direct = createPostgresPool(server.url);
    await migratePostgres(direct);
  }, 60_000);
  afterAll(async () => {
    await direct?.end();
    await server?.stop();
  });

  /** A log on PostgreSQL through a relay, its notices, and a way to read back what reached PostgreSQL. */
  async function throughRelay(options: { records: number; maxAnswerWaitMs?: number; journalWrite?: typeof writeSync }) {
    const relay: TcpRelay = await startTcpRelay(server.port);
    const directory = temporaryDirectory();
    const notices: string[] = [];
    const pool = createPostgresPool(server.url.replace(`:${server.port}/`, `:${relay.port}/`), { onError: () => undefined });
    const log = await openPostgresRequestLog(directory, pool, {
      flushIntervalMs: 5,
      retryDelayMs: 200,
      backlogLimit: { records: options.records, characters: 1 << 30 },
      maxAnswerWaitMs: options.maxAnswerWaitMs ?? 10_000,
      journalWrite: options.journalWrite,
      onError: (error) => notices.push(error.message),
    });
    const stored = async (prefix: string) => {
      const { rows } = await direct.query<{ id: string; body: string | null }>(
        'SELECT r.id, b.response_json AS body FROM requests r LEFT JOIN bodies b ON b.request_seq = r.seq WHERE r.id LIKE $1 ORDER BY r.id',
        [`${prefix}%`],
      );
      return rows;
    };
    const cleanUp = async () => {
      // Up first: a log closing waits for a write in progress.
      relay.up();
      await log.close();
      await pool.end();
      await relay.close();
      removeDirectory(directory);
    };
    return { relay, log, notices, stored, cleanUp };
  }

  const id = (prefix: string, index: number) => `${prefix}${String(index).padStart(2, '0')}`;

  it('unreachable: answers never wait, retries are paced, records past the limit are let go to the journal and written from it, without bodies, when it is back', async () => {
    const { relay, log, notices, stored, cleanUp } = await throughRelay({ records: 5 });
    try {
      relay.down();
      log.observer.requestFinished(makeRecord({ id: id('outage-', 0) }));
      await vi.waitFor(() => expect(notices.some((notice) => notice.startsWith('PostgreSQL unreachable'))).toBe(true), { timeout: 5000 });
      const attemptsBefore = relay.connections;
      const answered: number[] = [];
      for (let index = 1; index < 12; index += 1) {
        log.observer.requestFinishedBeforeAnswer!(makeRecord({ id: id('outage-', index) }), () => answered.push(index));
      }
      // Answered at once: PostgreSQL is gone, so nothing is gained by holding them.
      expect(answered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(notices.filter((notice) => /past 5 requests \(or 1024 M characters\) held in memory, the oldest are kept in the journal only/.test(notice))).toHaveLength(1);
      expect(log.pendingCount).toBe(12);
      expect(notices.filter((notice) => notice.startsWith('PostgreSQL is reachable again'))).toHaveLength(0);
      // Retried every 200 ms, not in a loop, even as requests keep coming, Responses answers among
      // them (committed at once when PostgreSQL is there): over 600 ms, a handful of connection attempts.
      for (let index = 12; index < 42; index += 1) {
        log.observer.requestFinished(makeRecord({ id: id('outage-', index), responseId: `resp_${index}` }));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(relay.connections - attemptsBefore).toBeLessThanOrEqual(8);
      expect(notices.filter((notice) => notice.startsWith('PostgreSQL unreachable'))).toHaveLength(1);
      expect(await stored('outage-')).toEqual([]);

      relay.up();
      await log.committed();
      expect(log.pendingCount).toBe(0);
      const rows = await stored('outage-');
      // All 42, once each: the 37 let go without bodies (from the journal), the last five held with theirs.
      expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 42 }, (_, index) => id('outage-', index)));
      expect(rows.map((row) => row.body !== null)).toEqual(Array.from({ length: 42 }, (_, index) => index >= 37));
      expect(notices.filter((notice) => notice === 'PostgreSQL is reachable again; the requests kept meanwhile are written')).toHaveLength(1);
      expect(notices).toContain('37 request(s) kept in the journal only were written from it, without bodies');
    } finally {
      await cleanUp();
    }
  });

  it('stalled: answers past the limit wait for PostgreSQL, in order, and go once it has caught up', async () => {
    const { relay, log, stored, cleanUp } = await throughRelay({ records: 3 });
    try {
      // A connection open first, so the stall is in a write, not in connecting.
      log.observer.requestFinished(makeRecord({ id: id('stall-', 0) }));
      await log.committed();
      relay.hold();
      const answered: number[] = [];
      for (let index = 1; index <= 6; index += 1) {
        log.observer.requestFinishedBeforeAnswer!(makeRecord({ id: id('stall-', index) }), () => answered.push(index));
      }
      // Three held is the limit; the fourth and after wait.
      expect(answered).toEqual([1, 2, 3]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toEqual([1, 2, 3]);
      relay.up();
      await vi.waitFor(() => expect(answered).toEqual([1, 2, 3, 4, 5, 6]), { timeout: 5000 });
      await log.committed();
      expect((await stored('stall-')).map((row) => row.body !== null)).toEqual([true, true, true, true, true, true, true]);
    } finally {
      await cleanUp();
    }
  });

  it('stalled past the longest wait: the answers go, and what is past the limit is let go to the journal; nothing is lost', async () => {
    const { relay, log, notices, stored, cleanUp } = await throughRelay({ records: 3, maxAnswerWaitMs: 200 });
    try {
      log.observer.requestFinished(makeRecord({ id: id('stuck-', 0) }));
      await log.committed();
      relay.hold();
      const answered: number[] = [];
      // The first is taken by the flush at once and stalls in its write; the next are held.
      log.observer.requestFinished(makeRecord({ id: id('stuck-', 1) }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let index = 2; index <= 7; index += 1) {
        log.observer.requestFinishedBeforeAnswer!(makeRecord({ id: id('stuck-', index) }), () => answered.push(index));
      }
      expect(answered).toEqual([2, 3]);
      await vi.waitFor(() => expect(answered).toEqual([2, 3, 4, 5, 6, 7]), { timeout: 2000 });
      expect(notices.filter((notice) => /^PostgreSQL is behind: past 3 requests \(or 1024 M characters\) held in memory/.test(notice))).toHaveLength(1);
      relay.up();
      await log.committed();
      const rows = await stored('stuck-');
      expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 8 }, (_, index) => id('stuck-', index)));
      // 0 and 1 written with bodies (1 was being written); of 2–7, the four oldest let go: with 1, three were held.
      expect(rows.map((row) => row.body !== null)).toEqual([true, true, false, false, false, false, true, true]);
    } finally {
      await cleanUp();
    }
  });

  it('a record whose journal line could not be written (a full disk) is never let go: memory is its only copy', async () => {
    // The disk refuses the line of one request, part of it written.
    const fullDisk = ((descriptor: number, data: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof data === 'string' && data.includes('"id":"disk-03"')) {
        writeSync(descriptor, data.slice(0, 40));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return (writeSync as (...args: unknown[]) => number)(descriptor, data, ...rest);
    }) as typeof writeSync;
    const { relay, log, notices, stored, cleanUp } = await throughRelay({ records: 2, journalWrite: fullDisk });
    try {
      relay.down();
      log.observer.requestFinished(makeRecord({ id: id('disk-', 0) }));
      await vi.waitFor(() => expect(notices.some((notice) => notice.startsWith('PostgreSQL unreachable'))).toBe(true), { timeout: 5000 });
      for (let index = 1; index < 8; index += 1) log.observer.requestFinished(makeRecord({ id: id('disk-', index) }));
      expect(notices).toContain('ENOSPC: no space left on device, write');
      relay.up();
      await log.committed();
      const rows = await stored('disk-');
      // Every one logged: 03 with its body (held in memory all along, past the limit of two), 07 too; the lines after
      // 03's torn one read whole from the journal.
      expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 8 }, (_, index) => id('disk-', index)));
      expect(rows.find((row) => row.id === 'disk-03')?.body).not.toBeNull();
      expect(rows.filter((row) => row.body === null).map((row) => row.id)).toEqual(['disk-00', 'disk-01', 'disk-02', 'disk-04', 'disk-05', 'disk-06']);
    } finally {
      await cleanUp();
    }
  });
});
