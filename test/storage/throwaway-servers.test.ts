import { connect } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { startThrowawayRedis } from '../helpers/throwaway-redis.js';

describe('throwaway PostgreSQL', () => {
  it('starts on a loopback port with a fresh database, answers queries, and stops cleanly', async () => {
    const server = await startThrowawayPostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/switchyard@127\.0\.0\.1:\d+\/switchyard_test$/);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query<{ database: string; tables: string }>(
        "SELECT current_database() AS database, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables",
      );
      expect(rows[0]).toEqual({ database: 'switchyard_test', tables: '0' });
      await client.end();
      const other = await server.createDatabase('second');
      expect(other.endsWith('/second')).toBe(true);
    } finally {
      await server.stop();
    }
    const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow();
  });
});

describe('throwaway Redis', () => {
  it('starts on a loopback port, answers PING, and stops', async () => {
    const server = await startThrowawayRedis();
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.write('PING\r\n'));
        socket.once('data', (data) => {
          socket.destroy();
          resolve(data.toString());
        });
        socket.once('error', reject);
      });
      expect(reply).toBe('+PONG\r\n');
    } finally {
      await server.stop();
    }
  });
});
