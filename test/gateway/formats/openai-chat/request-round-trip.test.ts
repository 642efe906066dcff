/**
 * decode (wire → core) and encode-request (core → wire) are inverses: for every OpenAI-shaped
 * request fixture under test/gateway, encode(decode(x)) deep-equals x after the documented
 * normalisations (see encode-request.ts), and decoding is stable (decode(encode(core)) = core).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeChatRequest } from '../../../../src/main/gateway/formats/openai-chat/decode.js';
import { encodeChatRequest } from '../../../../src/main/gateway/formats/openai-chat/encode-request.js';
import { validateChatRequest } from '../../../../src/main/gateway/request-validation.js';

const ROOT = join(__dirname, '..', '..');

function fixtureFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...fixtureFiles(path));
    else if (name.endsWith('.json') && path.includes(`${'/'}fixtures${'/'}`)) out.push(path);
  }
  return out;
}

/** The OpenAI chat request a fixture holds on its input side, if any. */
function requestOf(fixture: unknown): Record<string, unknown> | null {
  if (typeof fixture !== 'object' || fixture === null) return null;
  for (const key of ['request', 'openai']) {
    const candidate = (fixture as Record<string, unknown>)[key];
    if (typeof candidate === 'object' && candidate !== null && Array.isArray((candidate as { messages?: unknown }).messages)) return candidate as Record<string, unknown>;
  }
  return null;
}

type Json = any;

function isPlainTextPart(part: Json): boolean {
  return typeof part === 'object' && part !== null && part.type === 'text' && typeof part.text === 'string' && Object.keys(part).length === 2;
}

function collapse(content: Json): Json {
  return Array.isArray(content) && content.length === 1 && isPlainTextPart(content[0]) ? content[0].text : content;
}

/** The normalisations documented in encode-request.ts. */
function normalise(request: Json): Json {
  const x = structuredClone(request);
  for (const key of ['temperature', 'top_p', 'seed', 'presence_penalty', 'frequency_penalty', 'max_tokens', 'max_completion_tokens', 'stop', 'tool_choice', 'response_format', 'reasoning_effort', 'user', 'metadata', 'stream_options']) {
    if (x[key] === null) delete x[key];
  }
  if (x.stream === false || x.stream === null) delete x.stream;
  if (x.n === 1) delete x.n;
  if (x.max_completion_tokens !== undefined && x.max_tokens === undefined) {
    x.max_tokens = x.max_completion_tokens;
    delete x.max_completion_tokens;
  }
  if (x.stream_options !== undefined && !(x.stream === true && x.stream_options.include_usage === true && Object.keys(x.stream_options).length === 1)) {
    if (Object.keys(x.stream_options).every((key: string) => key === 'include_usage')) delete x.stream_options;
  }
  if (Array.isArray(x.stop) && x.stop.length === 1) x.stop = x.stop[0];

  const messages: Json[] = [];
  let leading = true;
  for (const message of x.messages) {
    if (message.role === 'system' || message.role === 'developer') {
      if (leading) {
        const parts = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
        for (const part of parts) messages.push({ role: 'system', content: collapse([part]) });
        continue;
      }
      messages.push({ ...message, content: collapse(message.content) });
      continue;
    }
    leading = false;
    if (message.role === 'assistant') {
      const copy = { ...message };
      if (copy.reasoning !== undefined) {
        if (copy.reasoning_content === undefined && copy.reasoning !== '') copy.reasoning_content = copy.reasoning;
        delete copy.reasoning;
      }
      if (copy.reasoning_content === '') delete copy.reasoning_content;
      if (Array.isArray(copy.content) && copy.content.some((part: Json) => part.type === 'thinking' || part.type === 'redacted_thinking')) {
        const thinking = copy.content.filter((part: Json) => part.type === 'thinking' || part.type === 'redacted_thinking');
        copy.thinking_blocks ??= thinking;
        const rest = copy.content.filter((part: Json) => !(part.type === 'thinking' || part.type === 'redacted_thinking'));
        copy.content = rest.length === 0 ? null : rest.every(isPlainTextPart) ? rest.map((part: Json) => part.text).join('') : rest;
      }
      if (Array.isArray(copy.thinking_blocks)) {
        const text = copy.thinking_blocks.filter((block: Json) => block.type === 'thinking').map((block: Json) => block.thinking).join('');
        if (text.length > 0) copy.reasoning_content = text;
        else delete copy.reasoning_content;
      }
      if (copy.content === undefined) copy.content = null;
      copy.content = collapse(copy.content);
      messages.push(copy);
      continue;
    }
    messages.push({ ...message, content: collapse(message.content) });
  }
  x.messages = messages;
  return x;
}

const fixtures = fixtureFiles(ROOT)
  .map((path) => ({ path: path.slice(ROOT.length + 1), request: requestOf(JSON.parse(readFileSync(path, 'utf8'))) }))
  .filter((entry): entry is { path: string; request: Record<string, unknown> } => entry.request !== null);

describe('openai-chat request: encode(decode(x)) = x', () => {
  it('finds the request fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(50);
  });

  for (const { path, request } of fixtures) {
    it(path, () => {
      const wire = validateChatRequest(structuredClone(request));
      const core = decodeChatRequest(wire);
      const encoded = encodeChatRequest(core);
      expect(JSON.parse(JSON.stringify(encoded))).toEqual(normalise(request));
      // In the client's field order.
      const expectedKeys = Object.keys(normalise(request));
      expect(Object.keys(encoded).filter((key) => expectedKeys.includes(key))).toEqual(expectedKeys.filter((key) => key in encoded));
      // And the core is a fixed point (the field order aside: defaults left out change it).
      const withoutOrder = (request: ReturnType<typeof decodeChatRequest>) => ({ ...request, extensions: request.extensions && { ...request.extensions, order: undefined } });
      expect(withoutOrder(decodeChatRequest(encoded))).toEqual(withoutOrder(core));
    });
  }
});
