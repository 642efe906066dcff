/**
 * What an agent resends with every request is stored once: a tool list, a system prompt or
 * instructions (each whole, as one value) and a Responses `input`'s items (each item), as they
 * came (key order and nulls kept, so a continuation sends them upstream unchanged), referenced
 * from each request's stored body, on SQLite and on a throwaway PostgreSQL. A reference is read
 * back only from the request's own links, so a body an earlier build stored as it came (its
 * `input` and `tools` verbatim) reads back as written, even where it holds an object shaped like
 * a reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { conversation } from '../../src/main/storage/analytics.js';
import { getRequest } from '../../src/main/storage/request-log-queries.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import type { StoredRequestRecord } from '../../src/main/storage/stored-record.js';
import { ENGINE_NAMES, logEngines, type LogEngine } from './log-engines.js';
import { makeRecord, removeDirectory, temporaryDirectory } from './request-record-fixture.js';

// Keys out of order and a null inside: what a canonical form would change.
const TOOLS = [
  { name: 'read_file', description: 'Reads a file. '.repeat(200), input_schema: { type: 'object', properties: { path: { type: 'string', default: null } }, required: ['path'] } },
  { description: 'Runs a command.', name: 'bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } },
];
const SYSTEM = [{ type: 'text', text: 'You are an agent. '.repeat(300), cache_control: { type: 'ephemeral' } }];

function claudeTurn(messages: unknown[]): StoredRequestRecord {
  return makeRecord({ endpoint: '/v1/messages', requestBody: { model: 'claude-sonnet-4-5', max_tokens: 1024, system: SYSTEM, tools: TOOLS, messages }, responseBody: { id: 'msg_1', type: 'message', content: [] } });
}

const ITEMS = [
  { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Codex instructions. '.repeat(100) }] },
  { role: 'user', type: 'message', content: [{ type: 'input_text', text: 'List the files.' }] },
  { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls"}', call_id: 'call_1', status: null },
  { type: 'function_call_output', call_id: 'call_1', output: 'a.ts\nb.ts\n'.repeat(50) },
  { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Two files.', annotations: [] }] },
  { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Thanks.' }] },
];

/** A Codex turn: the whole conversation so far as `input` (store: false), the same tools every time. */
function codexTurn(items: unknown[]): StoredRequestRecord {
  return makeRecord({ endpoint: '/v1/responses', requestBody: { model: 'gpt-5', instructions: null, input: items, tools: TOOLS, store: false }, responseBody: { id: 'resp_1', object: 'response', output: [] } });
}

const engines = logEngines('verbatim_members');
afterAll(() => engines.stop());

/** Records given to the log's sink, committed. */
async function write(engine: LogEngine, records: StoredRequestRecord[]): Promise<void> {
  for (const record of records) engine.sink.observer.requestFinished(record);
  await engine.sink.committed();
}

describe.each(ENGINE_NAMES)('on %s', (name) => {
  it('a tool list and a system prompt sent with every request are stored once, and every request reads back exactly as sent', async () => {
    const engine = await engines.open(name);
    try {
      // (Messages are stored in their canonical form, keys sorted: written so here, so the whole body compares as text.)
      const turns = [
        claudeTurn([{ content: 'One', role: 'user' }]),
        claudeTurn([{ content: 'One', role: 'user' }, { content: 'Uno', role: 'assistant' }, { content: 'Two', role: 'user' }]),
        claudeTurn([{ content: 'Three', role: 'user' }]),
      ];
      await write(engine, turns);
      for (const turn of turns) {
        const stored = await engine.read(turn.id);
        // Exactly: the same text, so key order and the schema's null are kept.
        expect(JSON.stringify(stored?.requestBody) === JSON.stringify(turn.requestBody)).toBe(true);
      }
      const toolsText = JSON.stringify(TOOLS);
      expect(await engine.count('SELECT count(*) FROM messages WHERE content_json = ?', toolsText)).toBe(1);
      expect(await engine.count('SELECT count(*) FROM messages WHERE content_json = ?', JSON.stringify(SYSTEM))).toBe(1);
      // No body holds them: each references them.
      const bodies = await engine.query('SELECT request_json FROM bodies');
      expect(bodies).toHaveLength(3);
      for (const body of bodies) {
        expect(String(body.request_json)).not.toContain('Reads a file.');
        expect(String(body.request_json)).not.toContain('You are an agent.');
      }
      // Linked apart from the messages (part 4), so the conversation view does not take them for turns.
      expect(await engine.query('SELECT DISTINCT part FROM request_messages WHERE message_id IN (SELECT id FROM messages WHERE content_json = ?)', toolsText)).toEqual([{ part: 4 }]);
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('a Responses conversation resent whole as input each turn stores each item once, as it came', async () => {
    const engine = await engines.open(name);
    try {
      const turns = [codexTurn(ITEMS.slice(0, 2)), codexTurn(ITEMS.slice(0, 4)), codexTurn(ITEMS)];
      await write(engine, turns);
      for (const turn of turns) expect(JSON.stringify((await engine.read(turn.id))?.requestBody) === JSON.stringify(turn.requestBody)).toBe(true);
      // Six items, the tool list: seven stored values for three turns of 2, 4 and 6 items.
      expect(await engine.count('SELECT count(*) FROM messages')).toBe(7);
      const last = await engine.query('SELECT b.request_json FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = ?', turns[2]!.id);
      expect(String(last[0]!.request_json)).not.toContain('Codex instructions.');
      expect(String(last[0]!.request_json)).toContain('"instructions":null');
    } finally {
      await engine.close();
    }
  }, 60_000);
});

describe('a Responses conversation the server keeps (previous_response_id), on SQLite', () => {
  it('stores a text input and the answer’s output items once each, reads them back exactly, and shows both in the conversation view under the first text', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const answer = (id: string, text: string) => ({ id, object: 'response', status: 'completed', output: [{ id: `msg_${id}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], text }] }] });
      const turns = [
        makeRecord({ endpoint: '/v1/responses', conversationId: 'conv-chain', responseId: 'resp_1', requestBody: { model: 'gpt-4.1', input: 'What is a gateway?' }, responseBody: answer('resp_1', 'A proxy for models.') }),
        makeRecord({ endpoint: '/v1/responses', conversationId: 'conv-chain', responseId: 'resp_2', requestBody: { model: 'gpt-4.1', input: 'And a log?', previous_response_id: 'resp_1' }, responseBody: answer('resp_2', 'What it remembers.') }),
        // A client that keeps the conversation itself (store: false) sends the output back: not addressed in the answer.
        makeRecord({ endpoint: '/v1/responses', conversationId: 'conv-other', responseId: 'resp_3', requestBody: { model: 'gpt-4.1', input: 'Kept by me', store: false }, responseBody: answer('resp_3', 'Sent back next time.') }),
      ];
      for (const turn of turns) log.observer.requestFinished(turn);
      await log.committed();
      for (const turn of turns) {
        const stored = getRequest(log.database, turn.id);
        expect(JSON.stringify(stored?.requestBody) === JSON.stringify(turn.requestBody)).toBe(true);
        expect(JSON.stringify(stored?.responseBody) === JSON.stringify(turn.responseBody)).toBe(true);
      }
      const bodyOf = (id: string) => log.database.prepare('SELECT b.request_json || b.response_json FROM bodies b JOIN requests r ON r.seq = b.request_seq WHERE r.id = ?').pluck().get(id) as string;
      expect(bodyOf(turns[1]!.id)).not.toContain('And a log?');
      expect(bodyOf(turns[1]!.id)).not.toContain('What it remembers.');
      expect(bodyOf(turns[2]!.id)).toContain('Sent back next time.');
      const detail = conversation(log.database, 'conv-chain');
      expect(detail?.title).toBe('What is a gateway?');
      expect(detail?.turns.map((turn) => [turn.newMessages, turn.responseMessages])).toEqual([
        [[{ role: 'user', content: 'What is a gateway?' }], answer('resp_1', 'A proxy for models.').output],
        [[{ role: 'user', content: 'And a log?' }], answer('resp_2', 'What it remembers.').output],
      ]);
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});

describe('bodies an earlier build stored as they came (SQLite)', () => {
  it('read back as written, a reference-shaped item or tool list included (only the request’s own links are looked up)', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const secret = makeRecord({ gatewayKeyId: 'key-other', requestBody: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'another key’s secret' }] } });
      const old = makeRecord({ endpoint: '/v1/responses', requestBody: { model: 'gpt-4.1', input: 'placeholder' } });
      log.observer.requestFinished(secret);
      log.observer.requestFinished(old);
      await log.committed();
      const hash = Buffer.from((log.database.prepare("SELECT hash FROM messages WHERE content_json LIKE '%secret%'").get() as { hash: Uint8Array }).hash).toString('hex');
      // As an earlier build stored a client's body: input and tools as sent, no links for them.
      const written = { model: 'gpt-4.1', input: [{ $message: hash }, { type: 'message', role: 'user', content: 'Hi' }], tools: { $message: hash } };
      log.database.prepare('UPDATE bodies SET request_json = ? WHERE request_seq = (SELECT seq FROM requests WHERE id = ?)').run(JSON.stringify(written), old.id);
      expect(getRequest(log.database, old.id)?.requestBody).toEqual(written);
      expect(JSON.stringify(getRequest(log.database, old.id))).not.toContain('secret');
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });

  it('a Responses conversation shows its input items as the turn’s messages in the conversation view', async () => {
    const directory = temporaryDirectory();
    const log = openRequestLog(directory);
    try {
      const turns = [codexTurn(ITEMS.slice(0, 2)), codexTurn(ITEMS)].map((turn) => ({ ...turn, conversationId: 'conv-codex' }));
      for (const turn of turns) log.observer.requestFinished(turn);
      await log.committed();
      const detail = conversation(log.database, 'conv-codex');
      expect(detail?.turns.map((turn) => turn.newMessages)).toEqual([ITEMS.slice(0, 2), ITEMS.slice(2)]);
    } finally {
      await log.close();
      removeDirectory(directory);
    }
  });
});
