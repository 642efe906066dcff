import { describe, expect, it } from 'vitest';
import { deriveConversationId } from '../../src/main/storage/conversation-id.js';
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
});
