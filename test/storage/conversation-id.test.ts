import { describe, expect, it } from 'vitest';
import { conversationIdFromHeaders, deriveConversationId } from '../../src/main/storage/conversation-id.js';
import { chatTranscript } from './request-record-fixture.js';

describe('deriveConversationId', () => {
  it('gives every turn of one chat the same id', () => {
    const ids = chatTranscript(6).map((turn) => deriveConversationId({ body: { model: 'm', messages: turn.messages } }));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^c_[0-9a-f]{24}$/);
  });

  it('separates chats with a different system prompt, first message or scope', () => {
    const base = { messages: [{ role: 'system', content: 'A' }, { role: 'user', content: 'hi' }] };
    const id = deriveConversationId({ body: base });
    expect(deriveConversationId({ body: { messages: [{ role: 'system', content: 'B' }, { role: 'user', content: 'hi' }] } })).not.toBe(id);
    expect(deriveConversationId({ body: { messages: [{ role: 'system', content: 'A' }, { role: 'user', content: 'hello' }] } })).not.toBe(id);
    expect(deriveConversationId({ body: base, scope: 'key-2' })).not.toBe(id);
  });

  it('treats a string and a single text part alike and ignores later messages', () => {
    const asString = deriveConversationId({ body: { messages: [{ role: 'user', content: 'hi' }] } });
    const asParts = deriveConversationId({
      body: { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, { role: 'assistant', content: 'x' }] },
    });
    expect(asParts).toBe(asString);
  });

  it('uses the Anthropic top-level system prompt', () => {
    const one = deriveConversationId({ body: { system: 'A', messages: [{ role: 'user', content: 'hi' }] } });
    const two = deriveConversationId({ body: { system: 'B', messages: [{ role: 'user', content: 'hi' }] } });
    expect(one).not.toBe(two);
  });

  it('lets an explicit x-conversation-id win and returns null without a user message', () => {
    expect(deriveConversationId({ explicitId: ' thread-42 ', body: { messages: [{ role: 'user', content: 'hi' }] } })).toBe('thread-42');
    expect(deriveConversationId({ body: { input: 'embed me' } })).toBeNull();
    expect(deriveConversationId({ body: { messages: [{ role: 'system', content: 'only' }] } })).toBeNull();
  });

  it('reads a Responses body (instructions, input) on /v1/responses only', () => {
    const endpoint = '/v1/responses';
    const items = { instructions: 'A', input: [{ type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'rules' }] }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] };
    const id = deriveConversationId({ body: items, endpoint });
    expect(id).toMatch(/^c_[0-9a-f]{24}$/);
    // Later turns resend the same opening: the same conversation.
    expect(deriveConversationId({ body: { ...items, input: [...items.input, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }] }, endpoint })).toBe(id);
    expect(deriveConversationId({ body: { ...items, instructions: 'B' }, endpoint })).not.toBe(id);
    expect(deriveConversationId({ body: { input: 'hi' }, endpoint })).toMatch(/^c_/);
    // The same body elsewhere (an embeddings request has `input`) is no conversation.
    expect(deriveConversationId({ body: { input: 'hi' } })).toBeNull();
  });
});

describe('conversationIdFromHeaders', () => {
  it('takes Switchyard’s header first, then Claude Code’s and Codex’s session headers', () => {
    expect(conversationIdFromHeaders({ 'x-conversation-id': 'mine', 'session-id': 'codex' })).toBe('mine');
    expect(conversationIdFromHeaders({ 'x-claude-code-session-id': 'claude' })).toBe('claude');
    expect(conversationIdFromHeaders({ 'session-id': ' 01a2494b-d06f ', 'thread-id': 'other' })).toBe('01a2494b-d06f');
    expect(conversationIdFromHeaders({ session_id: 'older-codex' })).toBe('older-codex');
    expect(conversationIdFromHeaders({ conversation_id: 'oldest-codex' })).toBe('oldest-codex');
    expect(conversationIdFromHeaders({ 'session-id': '', 'x-tags': 'a:b' })).toBeNull();
    expect(conversationIdFromHeaders({ 'session-id': 'x'.repeat(500) })).toHaveLength(200);
  });
});
