/**
 * Stored hashes must not change between versions: a message logged today has to match the
 * same message logged by an earlier build (content addressing), and a conversation's id
 * must stay the id its earlier turns were stored under.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addressRequestBody, addressResponseBody, MessageCache, messageHash, redactSecrets } from '../../src/main/storage/content-addressing.js';
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

  it('address a message seen before (same JSON text, a new object) through a cache exactly as without it, within its bounds', () => {
    const cache = new MessageCache(600, 200);
    const turn = (text: string) => ({ model: 'm', messages: [{ role: 'system', content: 'Be brief.', name: null }, { content: text, role: 'user' }] });
    for (const text of ['Hi', 'Hi', 'Hello', 'x'.repeat(300), 'Hi']) {
      expect(addressRequestBody(turn(text), new Map(), cache)).toEqual(addressRequestBody(turn(text)));
    }
    // the 300-character message was never kept; 'Hi' and the system prompt were found again
    expect(cache.size).toBeLessThanOrEqual(3);
    const reply = { choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!', refusal: null } }] };
    expect(addressResponseBody(reply, cache)).toEqual(addressResponseBody(structuredClone(reply)));
    expect(addressResponseBody(structuredClone(reply), cache).messages[0]!.hash).toBe(messageHash({ role: 'assistant', content: 'Hello!' }));
    // bounded by characters: filling it empties it rather than growing past the bound
    for (let index = 0; index < 50; index += 1) addressRequestBody(turn(`message ${index}`), new Map(), cache);
    expect(cache.size).toBeLessThan(10);
  });

  it('a cache never takes one message for another: text members behind their lengths, anything else by its JSON', () => {
    const cache = new MessageCache();
    // Joined without lengths (or in another order) these would read alike.
    const messages: Array<Record<string, unknown>> = [
      { role: 'user', content: 'ab' },
      { role: 'userab', content: '' },
      { role: 'user', content: 'a', b: '' },
      { content: 'ab', role: 'user' },
      { role: 'user', content: '4:role' },
      { role: 'user', content: ['ab'] },
      { role: 'user', content: 'ab', name: null },
      { role: 'tool', tool_call_id: 'call_1', content: 'line 1\nline 2\n' },
      {},
      JSON.parse('{"role":"user","content":"ab","__proto__":"x"}') as Record<string, unknown>,
    ];
    for (let round = 0; round < 2; round += 1) {
      for (const message of messages) {
        expect(cache.address(structuredClone(message))).toEqual(addressRequestBody({ messages: [message] }).messages[0]);
      }
    }
    // Inherited members are not the message's: such an object is found by its JSON text.
    const inherited = Object.create({ role: 'system' }) as Record<string, unknown>;
    inherited.content = 'ab';
    expect(cache.address(inherited).hash).toBe(messageHash({ content: 'ab' }));
  });

  it('derive a conversation id as SHA-256 over the scope, system prompts and first user message', () => {
    const body = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] };
    const expected = createHash('sha256').update('scope:key\u0000user\n').update('system:"Be brief."\n').update('user:"Hi"\n').digest('hex').slice(0, 24);
    expect(deriveConversationId({ body, scope: 'key\u0000user' })).toBe(`c_${expected}`);
  });

  it('redact credential members at any depth, copying only what changes', () => {
    const clean = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
    expect(redactSecrets(clean)).toBe(clean);
    const tools = [{ name: 'a' }, { name: 'b', headers: { Authorization: 'Bearer sk-live', accept: 'json' } }];
    const body = { tools, nested: [[{ 'X-Api-Key': 'k' }]], keep: clean };
    const redacted = redactSecrets(body) as typeof body & { nested: Array<Array<Record<string, string>>> };
    expect(redacted).toEqual({ tools: [{ name: 'a' }, { name: 'b', headers: { Authorization: '[redacted]', accept: 'json' } }], nested: [[{ 'X-Api-Key': '[redacted]' }]], keep: clean });
    expect(redacted.tools[0]).toBe(tools[0]);
    expect(redacted.keep).toBe(clean);
    expect(tools[1]!.headers!.Authorization).toBe('Bearer sk-live');
  });
});
