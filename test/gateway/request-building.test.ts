/** Canonical request → OpenAI-compatible upstream body, per preset and per model rule. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import type { ChatCompletionRequest } from '../../src/main/gateway/openai-types.js';
import { buildChatBody, prepareChatRequest, prepareEmbeddingsRequest } from '../../src/main/gateway/providers/openai-compatible/request.js';
import type { UpstreamTarget } from '../../src/main/gateway/providers/types.js';

const config = loadConfig({
  environment: {},
  file: {
    providers: {
      custom: { baseUrl: 'http://127.0.0.1:9999/v1/', models: ['my-model'], headers: { 'x-custom': 'yes' } },
    },
  },
});

function target(providerId: string, model: string, apiKey: string | null = null): UpstreamTarget {
  const provider = config.providers.find((candidate) => candidate.id === providerId);
  if (!provider) throw new Error(`no provider ${providerId}`);
  return { provider, model, apiKey };
}

function request(extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return { model: 'client-model', messages: [{ role: 'user', content: 'hi' }], ...extra };
}

describe('buildChatBody', () => {
  it('uses the upstream model name and leaves the client request untouched', () => {
    const original = request({ stream: true, max_tokens: 10 });
    const snapshot = structuredClone(original);
    const { body } = buildChatBody(original, target('openai', 'gpt-4o-mini'));
    expect(body.model).toBe('gpt-4o-mini');
    expect(original).toEqual(snapshot);
  });

  it('always asks a streaming upstream for usage, keeping other stream options', () => {
    for (const streamOptions of [undefined, null, { include_usage: false }, { include_usage: true, include_obfuscation: false }]) {
      const { body } = buildChatBody(request({ stream: true, stream_options: streamOptions }), target('openai', 'gpt-4o-mini'));
      expect(body.stream_options).toMatchObject({ include_usage: true });
      if (streamOptions && 'include_obfuscation' in streamOptions) expect(body.stream_options).toMatchObject({ include_obfuscation: false });
    }
    for (const provider of ['xai', 'ollama', 'lmstudio', 'custom']) {
      expect(buildChatBody(request({ stream: true }), target(provider, 'm')).body.stream_options).toEqual({ include_usage: true });
    }
  });

  it('never sends stream_options on a non-streaming request', () => {
    const { body } = buildChatBody(request({ stream: false, stream_options: { include_usage: true } }), target('openai', 'gpt-4o-mini'));
    expect(body).not.toHaveProperty('stream_options');
    expect(buildChatBody(request(), target('openai', 'gpt-4o-mini')).body).not.toHaveProperty('stream_options');
  });

  it('renames max_tokens per preset', () => {
    expect(buildChatBody(request({ max_tokens: 50 }), target('openai', 'gpt-4.1')).body).toMatchObject({ max_completion_tokens: 50 });
    expect(buildChatBody(request({ max_tokens: 50 }), target('openai', 'gpt-4.1')).body).not.toHaveProperty('max_tokens');
    // both given: the explicit max_completion_tokens wins
    const both = buildChatBody(request({ max_tokens: 50, max_completion_tokens: 70 }), target('openai', 'o3')).body;
    expect(both.max_completion_tokens).toBe(70);
    expect(both).not.toHaveProperty('max_tokens');
    for (const local of ['ollama', 'lmstudio']) {
      const { body } = buildChatBody(request({ max_completion_tokens: 40 }), target(local, 'qwen3:8b'));
      expect(body.max_tokens).toBe(40);
      expect(body).not.toHaveProperty('max_completion_tokens');
    }
    // xAI takes either: forwarded as sent
    expect(buildChatBody(request({ max_tokens: 5 }), target('xai', 'grok-3')).body).toMatchObject({ max_tokens: 5 });
    expect(buildChatBody(request({ max_completion_tokens: 5 }), target('xai', 'grok-3')).body).toMatchObject({ max_completion_tokens: 5 });
  });

  it('Ollama drops tool_choice (and the other unsupported parameters) with a warning', () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather' } }];
    const { body, warnings } = buildChatBody(request({ tools, tool_choice: 'required', user: 'u1', n: 1 }), target('ollama', 'llama3.2:latest'));
    expect(body).not.toHaveProperty('tool_choice');
    expect(body).not.toHaveProperty('user');
    expect(body).not.toHaveProperty('n');
    expect(body.tools).toEqual(tools);
    expect(warnings.map((warning) => warning.parameter).sort()).toEqual(['n', 'tool_choice', 'user']);
    for (const warning of warnings) {
      expect(warning.type).toBe('unsupported-parameter');
      expect(warning.message).toContain('Ollama');
    }
    // nothing to drop → no warnings
    expect(buildChatBody(request(), target('ollama', 'llama3.2:latest')).warnings).toEqual([]);
  });

  it('xAI grok-3-mini drops presence_penalty and maps reasoning_effort medium → high', () => {
    const { body, warnings } = buildChatBody(request({ presence_penalty: 0.5, frequency_penalty: 0.1, stop: ['x'], reasoning_effort: 'medium', temperature: 0.3 }), target('xai', 'grok-3-mini'));
    expect(body).not.toHaveProperty('presence_penalty');
    expect(body).not.toHaveProperty('frequency_penalty');
    expect(body).not.toHaveProperty('stop');
    expect(body.reasoning_effort).toBe('high');
    expect(body.temperature).toBe(0.3);
    expect(warnings.find((warning) => warning.parameter === 'presence_penalty')).toMatchObject({ type: 'unsupported-parameter' });
    expect(warnings.find((warning) => warning.parameter === 'reasoning_effort')?.message).toContain('"high"');
    expect(buildChatBody(request({ reasoning_effort: 'low' }), target('xai', 'grok-3-mini')).body.reasoning_effort).toBe('low');
    const none = buildChatBody(request({ reasoning_effort: 'none' }), target('xai', 'grok-3-mini'));
    expect(none.body).not.toHaveProperty('reasoning_effort');
    expect(none.warnings[0]).toMatchObject({ type: 'unsupported-parameter', parameter: 'reasoning_effort' });
  });

  it('other grok models drop reasoning_effort; grok-3 keeps penalties', () => {
    const grok3 = buildChatBody(request({ reasoning_effort: 'high', presence_penalty: 1 }), target('xai', 'grok-3'));
    expect(grok3.body).not.toHaveProperty('reasoning_effort');
    expect(grok3.body.presence_penalty).toBe(1);
    const grok4 = buildChatBody(request({ reasoning_effort: 'high', presence_penalty: 1 }), target('xai', 'grok-4'));
    expect(grok4.body).not.toHaveProperty('reasoning_effort');
    expect(grok4.body).not.toHaveProperty('presence_penalty');
  });

  it('OpenAI reasoning models drop sampling parameters; chat models keep them', () => {
    const o3 = buildChatBody(request({ temperature: 0.2, top_p: 0.9, reasoning_effort: 'medium' }), target('openai', 'o3'));
    expect(o3.body).not.toHaveProperty('temperature');
    expect(o3.body).not.toHaveProperty('top_p');
    expect(o3.body.reasoning_effort).toBe('medium');
    expect(o3.warnings.map((warning) => warning.parameter).sort()).toEqual(['temperature', 'top_p']);
    expect(buildChatBody(request({ temperature: 0.2 }), target('openai', 'gpt-4o-mini')).body.temperature).toBe(0.2);
    expect(buildChatBody(request({ temperature: 0.2 }), target('openai', 'gpt-5-chat-latest')).body.temperature).toBe(0.2);
    expect(buildChatBody(request({ temperature: 0.2 }), target('openai', 'gpt-5-mini')).body).not.toHaveProperty('temperature');
  });

  it('sends prior reasoning back under the field each server reads, and strips foreign fields', () => {
    const messages: ChatCompletionRequest['messages'] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a', reasoning_content: 'because', thinking_blocks: [{ type: 'thinking' }] },
      { role: 'user', content: 'q2' },
    ];
    const forOllama = buildChatBody(request({ messages }), target('ollama', 'qwen3:8b')).body.messages as Array<Record<string, unknown>>;
    expect(forOllama[1]).toEqual({ role: 'assistant', content: 'a', reasoning: 'because' });
    const forOpenAI = buildChatBody(request({ messages }), target('openai', 'gpt-4.1')).body.messages as Array<Record<string, unknown>>;
    expect(forOpenAI[1]).toEqual({ role: 'assistant', content: 'a' });
    const forCustom = buildChatBody(request({ messages }), target('custom', 'my-model')).body.messages as Array<Record<string, unknown>>;
    expect(forCustom[1]).toEqual({ role: 'assistant', content: 'a', reasoning_content: 'because' });
    // the client's messages are not modified
    expect(messages[1]).toHaveProperty('thinking_blocks');
  });
});

describe('prepareChatRequest / prepareEmbeddingsRequest', () => {
  it('targets the provider URL with its key and headers', () => {
    const { request: prepared } = prepareChatRequest(request({ stream: true }), target('custom', 'my-model', 'sk-custom'));
    expect(prepared.method).toBe('POST');
    expect(prepared.url).toBe('http://127.0.0.1:9999/v1/chat/completions');
    expect(prepared.headers).toMatchObject({ authorization: 'Bearer sk-custom', 'x-custom': 'yes', accept: 'text/event-stream', 'content-type': 'application/json' });
    expect(JSON.parse(prepared.body!)).toEqual(prepared.json);
    const local = prepareChatRequest(request(), target('ollama', 'llama3.2:latest')).request;
    expect(local.headers).not.toHaveProperty('authorization');
    expect(local.headers.accept).toBe('application/json');
  });

  it('asks servers without base64 support for floats', () => {
    const ollama = prepareEmbeddingsRequest({ model: 'x', input: 'hi', encoding_format: 'base64' }, target('ollama', 'nomic-embed-text:latest')).request;
    expect(ollama.json).not.toHaveProperty('encoding_format');
    const openai = prepareEmbeddingsRequest({ model: 'x', input: 'hi', encoding_format: 'base64' }, target('openai', 'text-embedding-3-small')).request;
    expect(openai.json).toMatchObject({ encoding_format: 'base64', model: 'text-embedding-3-small' });
    expect(openai.url).toBe('https://api.openai.com/v1/embeddings');
  });
});
