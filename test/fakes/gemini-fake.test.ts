import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type, type Content } from '@google/genai';
import { countWords, fakeGeminiEmbedding, geminiUsageFor, startGeminiFake, THOUGHT_TEXT, type ProviderFake } from './gemini-fake';

const KEY = 'gemini-test-key';
const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const weatherDecl = {
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
};

describe('gemini fake driven by @google/genai', () => {
  let fake: ProviderFake;
  let ai: GoogleGenAI;
  beforeAll(async () => {
    fake = await startGeminiFake({ apiKey: KEY });
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
  });
  afterAll(async () => {
    expect(fake.rejected).toEqual([]);
    await fake.close();
  });

  it('generateContent: text, finishReason, usage formula, path and auth header', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi there friend', config: { systemInstruction: 'You are terse.', temperature: 0.2, maxOutputTokens: 100 } });
    expect(r.text).toBe('Hello from gemini! You said: Hi there friend');
    expect(r.candidates![0]!.finishReason).toBe('STOP');
    expect(r.candidates![0]!.content!.role).toBe('model');
    expect(r.modelVersion).toBe('gemini-2.5-flash');
    expect(r.responseId).toBeTruthy();
    // prompt: system 3 + user 3 words + 2; candidates: 8 words
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 8, candidatesTokenCount: 8, totalTokenCount: 16 });
    expect(r.usageMetadata!.thoughtsTokenCount).toBeUndefined();
    const rec = fake.requests.at(-1)!;
    expect(rec.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(rec.headers['x-goog-api-key']).toBe(KEY);
    expect(rec.body.generationConfig).toMatchObject({ temperature: 0.2, maxOutputTokens: 100 });
    expect(geminiUsageFor(rec.body)).toMatchObject({ promptTokenCount: 8, candidatesTokenCount: 8, totalTokenCount: 16 });
  });

  it('generateContentStream: 3-char chunks, finishReason on the last chunk only, cumulative usage', async () => {
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'Stream it' });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const expected = 'Hello from gemini! You said: Stream it';
    expect(chunks.map((c) => c.text).join('')).toBe(expected);
    expect(chunks.length).toBe(Math.ceil(expected.length / 3));
    expect(chunks.slice(0, -1).every((c) => c.candidates![0]!.finishReason === undefined)).toBe(true);
    expect(chunks.at(-1)!.candidates![0]!.finishReason).toBe('STOP');
    const cand = chunks.map((c) => c.usageMetadata!.candidatesTokenCount ?? 0);
    for (let i = 1; i < cand.length; i++) expect(cand[i]!).toBeGreaterThanOrEqual(cand[i - 1]!);
    expect(chunks.at(-1)!.usageMetadata).toMatchObject({ promptTokenCount: 4, candidatesTokenCount: countWords(expected), totalTokenCount: 4 + countWords(expected) });
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    expect(fake.requests.at(-1)!.query.alt).toBe('sse');
  });

  it('raw SSE framing: data-only frames, some \\r\\n\\r\\n separators, no sentinel; JSON array without alt=sse', async () => {
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Raw' }] }] });
    const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=${KEY}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('\r\n\r\n');
    expect(text).not.toContain('[DONE]');
    expect(text).not.toMatch(/^event:/m);
    const frames = text.split(/\r\n\r\n|\n\n/).filter((f) => f.trim()).map((f) => JSON.parse(f.replace(/^data: /, '')));
    expect(frames.map((f) => f.candidates[0].content.parts[0].text).join('')).toBe('Hello from gemini! You said: Raw');
    const arr = await fetch(`${fake.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent`, { method: 'POST', headers: { 'x-goog-api-key': KEY }, body });
    const list = (await arr.json()) as any[];
    expect(Array.isArray(list)).toBe(true);
    expect(list).toHaveLength(frames.length);
  });

  it('function calling round trip: two calls without ids (first with thoughtSignature), functionResponse turn', async () => {
    const tools = [{ functionDeclarations: [weatherDecl] }];
    const prompt: Content = { role: 'user', parts: [{ text: 'Weather in Lisbon and Porto? [tools]' }] };
    const r1 = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: [prompt], config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } } } });
    const calls = r1.functionCalls!;
    expect(calls.map((c) => [c.name, c.args])).toEqual([
      ['get_weather', { city: 'Lisbon' }],
      ['get_weather', { city: 'Porto' }],
    ]);
    expect(calls.every((c) => c.id === undefined)).toBe(true);
    const parts = r1.candidates![0]!.content!.parts!;
    expect(parts[0]!.thoughtSignature).toBeTruthy();
    expect(parts[1]!.thoughtSignature).toBeUndefined();
    expect(r1.candidates![0]!.finishReason).toBe('STOP');
    expect(r1.usageMetadata!.candidatesTokenCount).toBe(10);

    const history: Content[] = [
      prompt,
      r1.candidates![0]!.content!,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '21C' } } }, { functionResponse: { name: 'get_weather', response: { output: '18C' } } }] },
    ];
    const r2 = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: history, config: { tools } });
    expect(r2.text).toBe('Tool results: {"output":"21C"}; {"output":"18C"}');

    // the same, streamed, with parametersJsonSchema: one chunk per call
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-pro',
      contents: [prompt],
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } }] }] },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.functionCalls?.length ?? 0)).toEqual([1, 1]);
    expect(chunks.at(-1)!.candidates![0]!.finishReason).toBe('STOP');
  });

  it('thinking: includeThoughts → a thought part first and thoughtsTokenCount excluded from candidates', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'Think', config: { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } } });
    const parts = r.candidates![0]!.content!.parts!;
    expect(parts[0]).toEqual({ text: THOUGHT_TEXT, thought: true });
    expect(r.text).toBe('Hello from gemini! You said: Think');
    const u = r.usageMetadata!;
    expect(u.thoughtsTokenCount).toBe(countWords(THOUGHT_TEXT));
    expect(u.candidatesTokenCount).toBe(countWords('Hello from gemini! You said: Think'));
    expect(u.totalTokenCount).toBe(u.promptTokenCount! + u.candidatesTokenCount! + u.thoughtsTokenCount!);
    const marker = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hmm [thinking]' });
    const chunks = [];
    for await (const c of marker) chunks.push(c);
    expect(chunks[0]!.candidates![0]!.content!.parts![0]!.thought).toBe(true);
    expect(chunks.at(-1)!.usageMetadata!.thoughtsTokenCount).toBe(countWords(THOUGHT_TEXT));
  });

  it('finish variants: [length], [safety], [blocked], [cache]', async () => {
    const l = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x [length]' });
    expect(l.candidates![0]!.finishReason).toBe('MAX_TOKENS');
    const s = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x [safety]' });
    expect(s.candidates![0]!.finishReason).toBe('SAFETY');
    expect(s.candidates![0]!.content).toBeUndefined();
    expect(s.text).toBeUndefined();
    const b = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x [blocked]' });
    expect(b.candidates).toBeUndefined();
    expect(b.promptFeedback!.blockReason).toBe('SAFETY');
    const c = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'one two three [cache]' });
    expect(c.usageMetadata!.promptTokenCount).toBe(6);
    expect(c.usageMetadata!.cachedContentTokenCount).toBe(3);
  });

  it('embedContent goes to :batchEmbedContents with deterministic vectors; :embedContent served too', async () => {
    const r = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['hello', 'world'], config: { outputDimensionality: 4, taskType: 'RETRIEVAL_QUERY' } });
    expect(fake.requests.at(-1)!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(fake.requests.at(-1)!.body.requests[0].model).toBe('models/gemini-embedding-001');
    expect(r.embeddings!.map((e) => e.values)).toEqual([fakeGeminiEmbedding('hello', 4), fakeGeminiEmbedding('world', 4)]);
    const raw = await fetch(`${fake.url}/v1beta/models/text-embedding-004:embedContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: 'hello' }] } }),
    });
    const body = (await raw.json()) as any;
    expect(body.embedding.values).toEqual(fakeGeminiEmbedding('hello'));
    expect(body.embedding.values).toHaveLength(8);
  });

  it('models.list pager walks every page (pageSize 2); models.get', async () => {
    const before = fake.requests.length;
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const m of pager) names.push(m.name!);
    expect(names).toEqual(['models/gemini-2.5-pro', 'models/gemini-2.5-flash', 'models/gemini-2.0-flash', 'models/gemini-embedding-001', 'models/text-embedding-004']);
    const reqs = fake.requests.slice(before);
    expect(reqs).toHaveLength(3);
    expect(reqs[1]!.query.pageToken).toBeTruthy();
    const m = await ai.models.get({ model: 'gemini-2.5-flash' });
    expect(m).toMatchObject({ name: 'models/gemini-2.5-flash', inputTokenLimit: 1048576, outputTokenLimit: 65536 });
    expect(m.supportedActions).toContain('generateContent');
  });

  it('countTokens', async () => {
    const r = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'count these four words' });
    expect(r.totalTokens).toBe(4 + 2);
  });

  it('errors: 429 RESOURCE_EXHAUSTED (one attempt, RetryInfo), mid-stream error chunk thrown as ApiError', async () => {
    const before = fake.requests.length;
    const e = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x [error:429]' }).catch((err) => err);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(429);
    expect(e.message).toContain('RESOURCE_EXHAUSTED');
    expect(e.message).toContain('type.googleapis.com/google.rpc.RetryInfo');
    expect(fake.requests.length - before).toBe(1);

    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x [error:midstream]' });
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of stream) got.push(c.text ?? '');
    })().catch((x) => x);
    expect(got).toEqual(['Hel']);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(500);
  });

  it('[slow] stream aborted through abortSignal counts in abortedStreams', async () => {
    const controller = new AbortController();
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x [slow]', config: { abortSignal: controller.signal } });
    const done = (async () => {
      for await (const _ of stream) controller.abort();
    })().catch(() => undefined);
    await fake.waitForAbort();
    await done;
    expect(fake.abortedStreams).toBe(1);
  });

  it('image inlineData and a Files API fileData are accepted', async () => {
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: PNG_1x1 } }, { fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc123' } }, { text: 'What?' }] }],
    });
    expect(r.text).toBe('Hello from gemini! You said: What?');
  });
});

describe('gemini fake: auth and strict validation (raw fetch)', () => {
  let fake: ProviderFake;
  let ai: GoogleGenAI;
  beforeAll(async () => {
    fake = await startGeminiFake({ apiKey: KEY });
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
  });
  afterAll(() => fake.close());

  async function post(body: unknown, model = 'gemini-2.5-flash', method = 'generateContent', headers: Record<string, string> = { 'x-goog-api-key': KEY }) {
    const res = await fetch(`${fake.url}/v1beta/models/${model}:${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any };
  }
  const user = (...parts: unknown[]) => ({ role: 'user', parts });
  const modelTurn = (...parts: unknown[]) => ({ role: 'model', parts });
  const fc = (name: string, args: unknown = {}) => ({ functionCall: { name, args } });
  const fr = (name: string, response: unknown = { output: 'ok' }, id?: string) => ({ functionResponse: { name, response, ...(id ? { id } : {}) } });
  const hi = [user({ text: 'hi' })];
  const tools = [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }];

  it('auth: bad key → 400 INVALID_ARGUMENT with reason API_KEY_INVALID; missing → 403; ?key= works', async () => {
    const bad = await post({ contents: hi }, 'gemini-2.5-flash', 'generateContent', { 'x-goog-api-key': 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(bad.json.error.details[0]).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' });
    const sdkBad = await new GoogleGenAI({ apiKey: 'nope', httpOptions: { baseUrl: fake.url } }).models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e) => e);
    expect(sdkBad).toBeInstanceOf(ApiError);
    expect(sdkBad.status).toBe(400);
    expect(sdkBad.message).toContain('API_KEY_INVALID');
    expect((await post({ contents: hi }, 'gemini-2.5-flash', 'generateContent', {})).status).toBe(403);
    const viaQuery = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${KEY}`, { method: 'POST', body: JSON.stringify({ contents: hi }) });
    expect(viaQuery.status).toBe(200);
  });

  it('unknown model → 404 NOT_FOUND; embedding model for generateContent → 404', async () => {
    const r = await post({ contents: hi }, 'gemini-9');
    expect(r.status).toBe(404);
    expect(r.json.error.status).toBe('NOT_FOUND');
    expect((await post({ contents: hi }, 'text-embedding-004')).status).toBe(404);
    expect((await post({ content: { parts: [{ text: 'x' }] } }, 'gemini-2.5-flash', 'embedContent')).status).toBe(404);
  });

  it('a replayed functionCall the fake signed must keep its thoughtSignature (gemini-2.5)', async () => {
    const prompt = { role: 'user', parts: [{ text: 'Weather? [tools]' }] };
    const r1 = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: [prompt as Content], config: { tools: [{ functionDeclarations: [weatherDecl] }] } });
    const modelContent = r1.candidates![0]!.content!;
    const responses = { role: 'user', parts: [fr('get_weather'), fr('get_weather')] };
    expect((await post({ contents: [prompt, modelContent, responses], tools })).status).toBe(200);
    const stripped = { ...modelContent, parts: modelContent.parts!.map(({ thoughtSignature, ...p }) => p) };
    const r = await post({ contents: [prompt, stripped, responses], tools });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('Function call is missing a thought_signature');
    const forged = { ...modelContent, parts: modelContent.parts!.map((p, i) => (i === 0 ? { ...p, thoughtSignature: 'Zm9vYmFy' } : p)) };
    const f = await post({ contents: [prompt, forged, responses], tools });
    expect(f.status).toBe(400);
    expect(f.json.error.message).toContain('Thought signature is not valid');
  });

  const cases: Array<[string, unknown, string, string?]> = [
    ['contents required', {}, 'contents is not specified'],
    ['contents non-empty', { contents: [] }, 'contents is not specified'],
    ['role user/model only', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, 'Please use a valid role: user, model.'],
    ['role system rejected', { contents: [{ role: 'system', parts: [{ text: 'x' }] }, user({ text: 'y' })] }, 'Please use a valid role: user, model.'],
    ['role required', { contents: [{ parts: [{ text: 'x' }] }] }, 'Please use a valid role: user, model.'],
    ['parts non-empty', { contents: [{ role: 'user', parts: [] }] }, 'contents.parts must not be empty.'],
    ['part needs one data field', { contents: [user({})] }, "required oneof field 'data' must have one initialized field"],
    ['empty text part', { contents: [user({ text: '' })] }, "required oneof field 'data' must have one initialized field"],
    ['two data fields in one part', { contents: [user({ text: 'x', inlineData: { mimeType: 'image/png', data: PNG_1x1 } })] }, "oneof field 'data' is already set"],
    ['unknown part field (OpenAI style)', { contents: [user({ type: 'text', text: 'x' })] }, 'Unknown name "type" at \'contents[0].parts[0]\''],
    ['systemInstruction needs parts', { contents: hi, systemInstruction: { parts: [] } }, 'contents.parts must not be empty.'],
    ['systemInstruction as a string', { contents: hi, systemInstruction: 'be brief' }, "Invalid value at 'system_instruction'"],
    ['unknown top-level field', { contents: hi, max_tokens: 5 }, 'Invalid JSON payload received. Unknown name "max_tokens": Cannot find field.'],
    ['snake_case top-level field', { contents: hi, system_instruction: { parts: [{ text: 'x' }] } }, 'Unknown name "system_instruction"'],
    ['snake_case generationConfig field', { contents: hi, generationConfig: { max_output_tokens: 5 } }, 'Invalid JSON payload received. Unknown name "max_output_tokens"'],
    ['maxOutputTokens over model limit', { contents: hi, generationConfig: { maxOutputTokens: 100000 } }, 'maxOutputTokens value of 100000'],
    ['temperature range', { contents: hi, generationConfig: { temperature: 3 } }, 'temperature must be in the range [0.0, 2.0]'],
    ['thinkingBudget int', { contents: hi, generationConfig: { thinkingConfig: { thinkingBudget: 1.5 } } }, "Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32)"],
    ['thinkingBudget 0 on 2.5-pro', { contents: hi, generationConfig: { thinkingConfig: { thinkingBudget: 0 } } }, 'Budget 0 is invalid', 'gemini-2.5-pro'],
    ['responseSchema needs responseMimeType', { contents: hi, generationConfig: { responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } } } }, 'response_mime_type must be application/json'],
    ['responseJsonSchema needs application/json', { contents: hi, generationConfig: { responseMimeType: 'text/plain', responseJsonSchema: { type: 'object' } } }, 'response_mime_type must be application/json'],
    ['functionResponse without a preceding call', { contents: [user({ text: 'a' }), modelTurn({ text: 'b' }), user(fr('get_weather'))] }, 'function response turn comes immediately after a function call turn'],
    ['functionResponse with a wrong name', { contents: [user({ text: 'a' }), modelTurn(fc('get_weather')), user(fr('get_time'))], tools }, 'Function response with name "get_time" does not match any function call'],
    ['functionResponse with a wrong id', { contents: [user({ text: 'a' }), modelTurn({ functionCall: { name: 'get_weather', args: {}, id: 'c1' } }), user(fr('get_weather', { output: 1 }, 'c2'))], tools }, 'id "c2"'],
    ['functionResponse count must match calls', { contents: [user({ text: 'a' }), modelTurn(fc('get_weather'), fc('get_weather', { city: 'x' })), user(fr('get_weather'))], tools }, 'number of function response parts is equal to the number of function call parts'],
    ['functionResponse.response must be an object', { contents: [user({ text: 'a' }), modelTurn(fc('get_weather')), user(fr('get_weather', '21C'))], tools }, "function_response.response' (type.googleapis.com/google.protobuf.Struct)"],
    ['functionCall turn must follow a user turn', { contents: [modelTurn(fc('get_weather')), user(fr('get_weather'))], tools }, 'function call turn comes immediately after a user turn'],
    ['lowercase schema type', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } }] }] }, "Invalid value at 'tools[0].function_declarations[0].parameters.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"object\""],
    ['additionalProperties in parameters', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING' } }, additionalProperties: false } }] }] }, 'Unknown name "additionalProperties" at \'tools[0].function_declarations[0].parameters\''],
    ['$schema in parameters', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { $schema: 'x', type: 'OBJECT', properties: { a: { type: 'STRING' } } } }] }] }, 'Unknown name "$schema"'],
    ['$ref in parameters', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { $ref: '#/defs/a' } } } }] }] }, 'Unknown name "$ref"'],
    ['$ref in parametersJsonSchema', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parametersJsonSchema: { type: 'object', properties: { a: { $ref: '#/$defs/a' } }, $defs: { a: { type: 'string' } } } }] }] }, '$ref is not supported'],
    ['required property not defined', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING' } }, required: ['b'] } }] }] }, 'parameters.required[0]: property is not defined'],
    ['nested OBJECT without properties', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { meta: { type: 'OBJECT' } } } }] }] }, 'parameters.properties[meta].properties: should be non-empty for OBJECT type'],
    ['properties on a non-OBJECT', { contents: hi, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING', properties: { b: { type: 'STRING' } } } } } }] }] }, 'only allowed for OBJECT type'],
    ['function name pattern', { contents: hi, tools: [{ functionDeclarations: [{ name: 'get weather' }] }] }, 'Invalid function name'],
    ['OpenAI-style tool', { contents: hi, tools: [{ type: 'function', function: { name: 'f' } }] }, 'Unknown name "type" at \'tools[0]\''],
    ['functionCallingConfig.mode enum', { contents: hi, tools, toolConfig: { functionCallingConfig: { mode: 'auto' } } }, "Invalid value at 'tool_config.function_calling_config.mode'"],
    ['allowedFunctionNames only with ANY', { contents: hi, tools, toolConfig: { functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['get_weather'] } } }, 'allowed_function_names should only be set when the function calling mode is ANY'],
    ['inlineData needs mimeType', { contents: [user({ inlineData: { data: PNG_1x1 } })] }, 'mime_type must be specified'],
    ['inlineData needs valid base64', { contents: [user({ inlineData: { mimeType: 'image/png', data: 'not base64!!' } })] }, 'Base64 decoding failed'],
    ['inlineData with a data: URL', { contents: [user({ inlineData: { mimeType: 'image/png', data: `data:image/png;base64,${PNG_1x1}` } })] }, 'Base64 decoding failed'],
    ['fileData with an arbitrary http URL', { contents: [user({ fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.png' } })] }, 'Unsupported file uri'],
    ['cachedContent that does not exist', { contents: hi, cachedContent: 'cachedContents/abc' }, 'CachedContent not found'],
    ['batchEmbedContents model mismatch', { requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'x' }] } }] }, 'does not match the model "models/gemini-embedding-001"', 'gemini-embedding-001:batchEmbedContents'],
    ['embedContent empty text', { content: { parts: [{ text: '' }] } }, "required oneof field 'data'", 'gemini-embedding-001:embedContent'],
  ];

  it.each(cases)('rejects: %s', async (_name, body, message, target) => {
    const before = fake.rejected.length;
    const [model, method] = (target ?? 'gemini-2.5-flash').split(':');
    const r = await post(body, model, method ?? 'generateContent');
    const expected = message.startsWith('CachedContent') ? 403 : 400;
    expect(r.status).toBe(expected);
    expect(r.json.error.code).toBe(expected);
    expect(r.json.error.status).toBe(expected === 403 ? 'PERMISSION_DENIED' : 'INVALID_ARGUMENT');
    expect(r.json.error.message).toContain(message);
    expect(fake.rejected.length).toBe(before + 1);
  });

  it('accepts valid requests the gateway is likely to send', async () => {
    const before = fake.rejected.length;
    const ok = await post({
      systemInstruction: { parts: [{ text: 'Be brief' }] },
      contents: [user({ text: 'a' }), modelTurn({ text: 'b' }), user({ text: 'c' })],
      tools: [{ functionDeclarations: [{ name: 'f', description: 'no args' }, { name: 'g', parametersJsonSchema: { type: 'object', properties: {}, additionalProperties: false } }, { name: 'h', parameters: { type: 'OBJECT', properties: { list: { type: 'ARRAY', items: { type: 'STRING' } }, mode: { type: 'STRING', enum: ['a', 'b'], nullable: true } }, required: ['list'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['h'] } },
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      generationConfig: { temperature: 0.5, topP: 0.9, topK: 40, maxOutputTokens: 500, stopSequences: ['END'], candidateCount: 1, responseMimeType: 'application/json', responseJsonSchema: { type: 'object' }, thinkingConfig: { thinkingBudget: -1 } },
    });
    expect(ok.status).toBe(200);
    // mode ANY forces calls to the first allowed function
    expect(ok.json.candidates[0].content.parts.map((p: any) => p.functionCall?.name)).toEqual(['h', 'h']);
    expect(fake.rejected.length).toBe(before);
  });
});
