/**
 * A credential a client puts in its JSON body never reaches SQLite: bodies are masked by
 * member name before they are stored, whether they reach the writer as objects or as the
 * JSON texts the gateway holds (handedRecord / recordFromWire). Clients of LiteLLM-style
 * gateways send the provider key as `api_key` in the body.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { createRequestWriter } from '../../src/main/storage/request-writer.js';
import { handedRecord, recordFromWire } from '../../src/main/storage/stored-record.js';
import { journalLine } from '../../src/main/storage/journal-pair.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const SECRET = 'sk-proj-body0secret0abcdefghijklmnop';
const directories: string[] = [];
const databases: SqliteDatabase[] = [];
afterEach(() => {
  for (const database of databases.splice(0)) database.close();
  for (const directory of directories.splice(0)) removeDirectory(directory);
});

function everything(database: SqliteDatabase): string {
  const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  return JSON.stringify(tables.map((table) => database.prepare(`SELECT * FROM ${table}`).all()), (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('latin1') : value));
}

describe('credentials in client bodies', () => {
  it.each(['api_key', 'apiKey', 'api-key', 'x-api-key'])('a body member named %s is masked before it is stored (objects and texts)', (name) => {
    const requestBody = { model: 'gpt-4.1', [name]: SECRET, messages: [{ role: 'user', content: 'Hello', [name]: SECRET }], metadata: { [name]: SECRET } };
    const objects = makeRecord({ requestBody, upstreamRequestBody: requestBody });
    const { line } = journalLine(objects);
    const texts = recordFromWire(handedRecord({ ...objects, id: `${objects.id}-texts` }, line.replace(objects.id, `${objects.id}-texts`), { requestBody: JSON.stringify(requestBody), upstreamRequestBody: JSON.stringify(requestBody) }));
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    databases.push(database);
    const writer = createRequestWriter(database, { flushIntervalMs: 0 });
    writer.enqueue(objects);
    writer.enqueue(texts);
    writer.flush();
    const stored = everything(database);
    expect(stored).toContain('[redacted]');
    expect(stored).not.toContain(SECRET);
  });

  it("a tool's JSON schema declaring an api_key parameter is kept", () => {
    const tools = [{ type: 'function', function: { name: 'call', parameters: { type: 'object', properties: { api_key: { type: 'string', description: 'the service key' } } } } }];
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    databases.push(database);
    const writer = createRequestWriter(database, { flushIntervalMs: 0 });
    writer.enqueue(makeRecord({ requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hello' }], tools } }));
    writer.flush();
    expect(everything(database)).toContain('the service key');
  });
});
