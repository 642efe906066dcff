/**
 * Codex's habits against a gateway started as `switchyard serve` starts it: its WebSocket try on
 * /v1/responses is refused with a 426 at once (what makes Codex fall back to HTTP; the `ws`
 * package as the client) and the gateway keeps serving; its session header (`session-id`, as
 * captured from Codex 0.169) makes one conversation of a session's turns in the log; a
 * previous_response_id turn joins the conversation of the response it continues.
 */
import OpenAI from 'openai';
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicFake, type ProviderFake as AnthropicFake } from '../../../fakes/anthropic-fake.js';
import { startAppGateway } from '../../../app-gateway.js';
import { CODEX_CAPTURE, readCaptured } from '../../../helpers/captured.js';
import type { RunningGateway } from '../../../../src/main/headless.js';

interface WsClient {
  on(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): void;
  on(event: 'open' | 'error' | 'close', listener: (...args: unknown[]) => void): void;
}
// `ws` ships no types of its own; only its client is used here.
const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: new (url: string, options?: { headers?: Record<string, string> }) => WsClient };

const ANTHROPIC_KEY = 'sk-ant-codex-0123456789';
const CLAUDE = 'claude-sonnet-4-5';

let anthropic: AnthropicFake;
let gateway: RunningGateway;
let key: string;
let client: OpenAI;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-codex-'));
  anthropic = await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
  ({ gateway, key } = await startAppGateway({ dataDir, environment: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.url } }));
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.origin}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await anthropic?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The headers Codex 0.169 sends (captured), with this session's id. */
function codexHeaders(session: string): Record<string, string> {
  const captured = readCaptured(CODEX_CAPTURE).headers;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(captured)) headers[name] = value.replaceAll('01a2494b-d06f-7aa0-99d4-3683b2ce0bd7', session);
  return headers;
}

/** One Codex-shaped turn (developer message, environment context, the prompt), streamed as Codex does. */
async function codexTurn(session: string, prompt: string, opening = '<environment_context>cwd: /home/user</environment_context>'): Promise<string> {
  const response = await fetch(`${gateway.origin}/v1/responses`, {
    method: 'POST',
    headers: { ...codexHeaders(session), authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: CLAUDE,
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { summary: 'auto' },
      prompt_cache_key: session,
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: opening }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] },
      ],
    }),
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text).toContain('event: response.completed');
  return response.headers.get('x-switchyard-request-id')!;
}

async function conversationOf(requestId: string): Promise<string | null> {
  await gateway.application.context.requestLog.committed();
  const row = gateway.application.context.database!.prepare('SELECT conversation_id FROM requests WHERE id = ?').get(requestId) as { conversation_id: string | null } | undefined;
  return row?.conversation_id ?? null;
}

describe('a WebSocket try on /v1/responses', () => {
  it('is refused with a 426 at once, and the gateway keeps serving', async () => {
    const refusal = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const socket = new WebSocket(`${gateway.origin.replace('http', 'ws')}/v1/responses`, { headers: { authorization: `Bearer ${key}`, 'openai-beta': 'responses_websockets=2026-02-06' } });
      socket.on('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection }));
      });
      socket.on('error', (error) => reject(error as Error));
    });
    expect(refusal.status).toBe(426);
    expect(refusal.connection).toBe('close');
    expect(JSON.parse(refusal.body)).toMatchObject({ error: { type: 'invalid_request_error', code: 'websocket_not_supported' } });
    // Then over HTTP, as Codex falls back.
    const response = await client.responses.create({ model: CLAUDE, input: 'After the refusal' });
    expect(response.output_text).toBe('Hello from anthropic! You said: After the refusal');
  });
});

describe('Codex sessions in the log', () => {
  it('two turns with one session id are one conversation, even when their openings differ; another session is another', async () => {
    const session = '01a2494c-0000-7000-8000-000000000001';
    const first = await codexTurn(session, 'Say hi');
    const second = await codexTurn(session, 'Now say bye', '<environment_context>cwd: /home/user (compacted)</environment_context>');
    const other = await codexTurn('01a2494c-0000-7000-8000-000000000002', 'Say hi');
    expect(await conversationOf(first)).toBe(session);
    expect(await conversationOf(second)).toBe(session);
    expect(await conversationOf(other)).toBe('01a2494c-0000-7000-8000-000000000002');
    const view = await gateway.application.services['conversations.get']({ id: session });
    expect(view?.turnsDetail).toHaveLength(2);
  });

  it('a turn that continues a response (previous_response_id) joins its conversation', async () => {
    const first = await client.responses.create({ model: CLAUDE, instructions: 'Be terse.', input: 'Opening of a chat' }).withResponse();
    const second = await client.responses.create({ model: CLAUDE, previous_response_id: first.data.id, input: 'A follow-up' }).withResponse();
    const firstConversation = await conversationOf(first.response.headers.get('x-switchyard-request-id')!);
    expect(firstConversation).toMatch(/^c_[0-9a-f]{24}$/);
    expect(await conversationOf(second.response.headers.get('x-switchyard-request-id')!)).toBe(firstConversation);
  });
});
