import { afterEach, describe, expect, it } from 'vitest';
import { databasePath, migrate, openDatabase } from '../../src/main/storage/database.js';
import { migrations } from '../../src/main/storage/migrations.js';
import { removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) removeDirectory(directory);
});

describe('openDatabase and migrations', () => {
  it('creates the file in WAL mode with synchronous=NORMAL, incremental auto-vacuum and a 10,000-page checkpoint', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    expect(database.name).toBe(databasePath(directory));
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('synchronous', { simple: true })).toBe(1);
    expect(database.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    expect(database.pragma('user_version', { simple: true })).toBe(migrations.length);
    const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(
      expect.arrayContaining(['requests', 'request_tags', 'attempts', 'messages', 'request_messages', 'bodies', 'conversations', 'rollup_hourly']),
    );
    database.close();
  });

  it('is idempotent: reopening and re-running migrations changes nothing', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const first = openDatabase(directory);
    first.prepare("INSERT INTO conversations (id, first_started_at, last_started_at) VALUES ('c', 1, 1)").run();
    const schema = first.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all();
    first.close();
    const second = openDatabase(directory);
    expect(migrate(second)).toBe(migrations.length);
    expect(second.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all()).toEqual(schema);
    expect(second.prepare('SELECT count(*) FROM conversations').pluck().get()).toBe(1);
    second.close();
  });

  it('applies only the migrations past user_version, in order', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    const extra = [...migrations, 'CREATE TABLE extra_one (id INTEGER)', 'CREATE TABLE extra_two (id INTEGER)'];
    expect(migrate(database, extra)).toBe(migrations.length + 2);
    expect(migrate(database, extra)).toBe(migrations.length + 2);
    expect(database.pragma('user_version', { simple: true })).toBe(migrations.length + 2);
    expect(() => migrate(database, migrations)).toThrow(/newer/);
    database.close();
  });

  it('rolls back a failing migration and leaves the version unchanged', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    expect(() => migrate(database, [...migrations, 'CREATE TABLE half (id INTEGER); THIS IS NOT SQL'])).toThrow();
    expect(database.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(database.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    database.close();
  });
});
