/**
 * The request log end to end: traffic with known usage through `switchyard serve`, then
 * `switchyard export` and `switchyard usage` compared with costs computed here from the
 * providers' published prices; and a kill -9 under load after which every answered
 * request is in the log and the database passes its integrity check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicFake, anthropicUsageFor, type ProviderFake } from '../fakes/anthropic-fake.js';
import { startGeminiFake, geminiUsageFor } from '../fakes/gemini-fake.js';
import { DEFAULT_MODELS, startOpenAIFake, fakeUsageFor, type OpenAIFake } from '../fakes/openai-fake.js';
import { openDatabase } from '../../src/main/storage/database.js';
import { openRequestLog } from '../../src/main/storage/request-log.js';
import { runCli, startServe } from './serve-process.js';

const KEY = 'sy-e2e-log-key';

/** Published list prices, USD per million tokens (reference table, section 6), as nano-USD per token. */
const NANO_PER_TOKEN = {
  'gpt-4.1-mini': { input: 400, cached: 100, output: 1600 },
  'grok-3-mini': { input: 300, cached: 75, output: 500 },
  'claude-haiku-4-5': { input: 1000, cacheRead: 100, cacheWrite: 1250, output: 5000 },
  'gemini-2.5-flash': { input: 300, cached: 30, output: 2500 },
};

describe('request log through switchyard serve', () => {
  let openai: OpenAIFake;
  let xai: OpenAIFake;
  let anthropic: ProviderFake;
  let gemini: ProviderFake;
  let dataDir: string;
  let environment: NodeJS.ProcessEnv;

  beforeAll(async () => {
    openai = await startOpenAIFake({ flavor: 'openai', apiKey: 'sk-openai', models: [...DEFAULT_MODELS.openai, 'gpt-custom-unpriced'] });
    xai = await startOpenAIFake({ flavor: 'xai', apiKey: 'xai-key' });
    anthropic = await startAnthropicFake({ apiKey: 'sk-ant' });
    gemini = await startGeminiFake({ apiKey: 'gem-key' });
    dataDir = mkdtempSync(join(tmpdir(), 'switchyard-log-'));
    environment = {
      SWITCHYARD_API_KEY: KEY,
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.url,
      XAI_API_KEY: 'xai-key',
      XAI_BASE_URL: xai.url,
      ANTHROPIC_API_KEY: 'sk-ant',
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: 'gem-key',
      GEMINI_BASE_URL: gemini.url,
    };
  });

  afterAll(async () => {
    await Promise.all([openai.close(), xai.close(), anthropic.close(), gemini.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('export and usage report exactly the cost computed from published prices', async () => {
    const serve = await startServe(['--data-dir', dataDir], environment);
    const client = new OpenAI({ apiKey: KEY, baseURL: `${serve.origin}/v1`, maxRetries: 0 });
    const expected = new Map<string, number>();

    const openaiBody = { model: 'gpt-4.1-mini', prompt_cache_key: 'k1', messages: [{ role: 'user' as const, content: 'price this request please' }] };
    await client.chat.completions.create(openaiBody);
    {
      const usage = fakeUsageFor('openai', openaiBody);
      const cached = usage.prompt_tokens_details.cached_tokens as number;
      const price = NANO_PER_TOKEN['gpt-4.1-mini'];
      expected.set('gpt-4.1-mini', (usage.prompt_tokens - cached) * price.input + cached * price.cached + usage.completion_tokens * price.output);
    }

    const xaiBody = { model: 'grok-3-mini', messages: [{ role: 'user' as const, content: '[reasoning] think about the price' }] };
    const xaiStream = await client.chat.completions.create({ ...xaiBody, stream: true });
    for await (const _chunk of xaiStream) {
      // drain
    }
    {
      const usage = fakeUsageFor('xai', { ...xaiBody, stream: true });
      const reasoning = usage.completion_tokens_details.reasoning_tokens as number;
      expect(reasoning).toBeGreaterThan(0);
      const price = NANO_PER_TOKEN['grok-3-mini'];
      // xAI leaves reasoning out of completion_tokens; it is billed as output all the same.
      expected.set('grok-3-mini', usage.prompt_tokens * price.input + (usage.completion_tokens + reasoning) * price.output);
    }

    await client.chat.completions.create({ model: 'claude-haiku-4-5', max_tokens: 200, messages: [{ role: 'user', content: '[cache] a cached prompt' }] });
    {
      const native = anthropic.requests.at(-1)!.body;
      const usage = anthropicUsageFor(native) as { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number };
      expect(usage.cache_read_input_tokens).toBe(100);
      const price = NANO_PER_TOKEN['claude-haiku-4-5'];
      expected.set(
        'claude-haiku-4-5',
        usage.input_tokens * price.input + usage.cache_read_input_tokens * price.cacheRead + usage.cache_creation_input_tokens * price.cacheWrite + usage.output_tokens * price.output,
      );
    }

    await client.chat.completions.create({ model: 'gemini-2.5-flash', reasoning_effort: 'low', messages: [{ role: 'user', content: '[thinking] gemini thinks' }] });
    {
      const native = gemini.requests.filter((request) => request.path.includes(':generateContent')).at(-1)!.body;
      const usage = geminiUsageFor(native, 'gemini-2.5-flash') as { promptTokenCount: number; candidatesTokenCount: number; thoughtsTokenCount?: number };
      expect(usage.thoughtsTokenCount ?? 0).toBeGreaterThan(0);
      const price = NANO_PER_TOKEN['gemini-2.5-flash'];
      expected.set('gemini-2.5-flash', usage.promptTokenCount * price.input + (usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0)) * price.output);
    }

    // A model with no known price: logged, marked unpriced, never $0.
    await client.chat.completions.create({ model: 'gpt-custom-unpriced', messages: [{ role: 'user', content: 'hi' }] });

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);

    const exported = await runCli(['export', '--data-dir', dataDir, '--format', 'jsonl']);
    expect(exported.code, exported.stderr).toBe(0);
    const rows = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const [model, nano] of expected) {
      const row = rows.find((candidate) => candidate.requestedModel === model && candidate.status === 'success');
      expect(row, `export has ${model}`).toBeDefined();
      expect(row!.priced).toBe(true);
      expect(row!.costNanoUsd, model).toBe(nano);
      expect(Number(row!.costUsd)).toBeCloseTo(nano / 1e9, 12);
    }
    const unpriced = rows.find((candidate) => candidate.requestedModel === 'gpt-custom-unpriced');
    expect(unpriced).toMatchObject({ status: 'success', priced: false, costUsd: null });

    const csv = await runCli(['export', '--data-dir', dataDir, '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toContain('costUsd');
    expect(csv.stdout.trim().split('\n').length).toBe(rows.length + 1);

    const usage = await runCli(['usage', '--data-dir', dataDir, '--by', 'model']);
    expect(usage.code, usage.stderr).toBe(0);
    for (const model of expected.keys()) expect(usage.stdout).toContain(model);
    const byProvider = await runCli(['usage', '--data-dir', dataDir, '--by', 'provider']);
    for (const provider of ['openai', 'xai', 'anthropic', 'gemini']) expect(byProvider.stdout).toContain(provider);
    const badFlag = await runCli(['usage', '--data-dir', dataDir, '--by', 'colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--by must be one of');
  }, 60_000);

  it('kill -9 under load: every answered request is in the log, and the database is intact', async () => {
    const killDir = mkdtempSync(join(tmpdir(), 'switchyard-kill-'));
    try {
      const serve = await startServe(['--data-dir', killDir], environment);
      const answered = new Set<string>();
      let stop = false;
      const worker = async (index: number): Promise<void> => {
        while (!stop) {
          try {
            const stream = index % 2 === 0;
            const response = await fetch(`${serve.origin}/v1/chat/completions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'gpt-4.1-mini', stream, messages: [{ role: 'user', content: `load ${index}` }] }),
            });
            const text = await response.text();
            const id = response.headers.get('x-switchyard-request-id');
            // Answered means the whole response arrived: a JSON body, or a stream up to [DONE].
            if (response.status === 200 && id && (stream ? text.includes('data: [DONE]') : text.includes('"choices"'))) answered.add(id);
          } catch {
            // The gateway was killed mid-request: that request was never answered.
          }
        }
      };
      const workers = Array.from({ length: 6 }, (_, index) => worker(index));
      // Load until enough requests were answered (a busy CI machine is slower), then kill mid-load.
      const loadStarted = Date.now();
      while (answered.size < 80 && Date.now() - loadStarted < 15_000) await new Promise((resolve) => setTimeout(resolve, 100));
      serve.child.kill('SIGKILL');
      await serve.exited;
      stop = true;
      await Promise.all(workers);
      expect(answered.size).toBeGreaterThan(50);

      const database = openDatabase(killDir);
      expect(database.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
      database.close();

      // `export` and `usage` without a server see every answered request, journalled ones included.
      const exported = await runCli(['export', '--data-dir', killDir, '--format', 'jsonl']);
      expect(exported.code, exported.stderr).toBe(0);
      const exportedIds = new Set(
        exported.stdout
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { id: string }).id),
      );
      expect([...answered].filter((id) => !exportedIds.has(id))).toEqual([]);
      const usage = await runCli(['usage', '--data-dir', killDir, '--by', 'model']);
      expect(usage.code, usage.stderr).toBe(0);
      const total = /^total\s+([\d,]+)/m.exec(usage.stdout);
      expect(Number(total?.[1]?.replaceAll(',', ''))).toBe(exportedIds.size);

      // The next start replays what is left of the journal (nothing: export wrote it).
      const log = openRequestLog(killDir);
      const present = log.database.prepare('SELECT id FROM requests').pluck().all() as string[];
      const missing = [...answered].filter((id) => !present.includes(id));
      expect(missing).toEqual([]);
      expect(log.database.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
      await log.close();
    } finally {
      rmSync(killDir, { recursive: true, force: true });
    }
  }, 60_000);
});
