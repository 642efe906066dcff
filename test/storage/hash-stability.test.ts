/**
 * Stored hashes must not change between versions: a message logged today has to match the
 * same message logged by an earlier build (content addressing), and a conversation's id
 * must stay the id its earlier turns were stored under.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addressRequestBody, messageHash } from '../../src/main/storage/content-addressing.js';
import { deriveConversationId } from '../../src/main/storage/conversation-id.js';

describe('stored hashes', () => {
  it('address a message by 128 bits of SHA-256 over its null-free canonical JSON', () => {
    const message = { role: 'user', content: 'Say hello.', name: null };
    const expected = createHash('sha256').update('{"content":"Say hello.","role":"user"}').digest('hex').slice(0, 32);
    expect(messageHash(message)).toBe(expected);
    expect(addressRequestBody({ model: 'm', messages: [message] }).messages[0]!.hash).toBe(expected);
  });

  it('address a message shared by the client and upstream bodies once, the same in both', () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }];
    const memo = new Map();
    const client = addressRequestBody({ model: 'alias', messages }, memo);
    const upstream = addressRequestBody({ model: 'gpt-4.1-mini', messages }, memo);
    expect(upstream.messages).toEqual(client.messages);
    expect(memo.size).toBe(2);
    expect(JSON.parse(upstream.json!)).toEqual({ model: 'gpt-4.1-mini', messages: client.messages.map((message) => ({ $message: message.hash })) });
  });

  it('derive a conversation id as SHA-256 over the scope, system prompts and first user message', () => {
    const body = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] };
    const expected = createHash('sha256').update('scope:key\u0000user\n').update('system:"Be brief."\n').update('user:"Hi"\n').digest('hex').slice(0, 24);
    expect(deriveConversationId({ body, scope: 'key\u0000user' })).toBe(`c_${expected}`);
  });
});
