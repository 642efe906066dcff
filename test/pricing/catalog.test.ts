import { describe, expect, it } from 'vitest';
import {
  bundledPriceCatalog,
  candidateModelNames,
  createPriceBook,
  lookupPrice,
  parsePriceCatalog,
  parsePriceOverrides,
} from '../../src/main/pricing/catalog.js';

describe('bundled price catalog', () => {
  it('records its source and date and covers each provider family', () => {
    const catalog = bundledPriceCatalog();
    expect(catalog.source).toMatch(/litellm/i);
    expect(catalog.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const model of [
      'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'o3', 'o4-mini', 'text-embedding-3-small',
      'text-embedding-3-large', 'claude-opus-4-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'gemini-2.5-pro',
      'gemini-2.5-flash', 'gemini-2.0-flash', 'grok-3', 'grok-3-mini',
    ]) {
      expect(catalog.models[model], model).toBeDefined();
    }
    expect(catalog.models['claude-sonnet-4-5']).toMatchObject({ provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15 });
    expect(catalog.models['o4-mini']).toMatchObject({ provider: 'openai', input: 1.1, cachedInput: 0.275, output: 4.4 });
  });
});

describe('price lookup', () => {
  const book = createPriceBook();

  it('finds dated variants under their family name', () => {
    expect(book.lookup({ model: 'gpt-4.1-mini-2025-04-14' })?.model).toBe('gpt-4.1-mini');
    expect(book.lookup({ model: 'claude-sonnet-4-5-20250929' })?.model).toBe('claude-sonnet-4-5');
    expect(book.lookup({ model: 'claude-opus-4-20250514' })?.model).toBe('claude-opus-4');
    expect(book.lookup({ model: 'claude-4-opus-20250514' })?.model).toBe('claude-opus-4');
    expect(book.lookup({ model: 'gemini-2.0-flash-001' })?.model).toBe('gemini-2.0-flash');
    expect(book.lookup({ model: 'grok-4-0709' })?.model).toBe('grok-4');
  });

  it('prefers an exact dated entry with its own price', () => {
    expect(book.lookup({ model: 'gpt-4o-2024-05-13' })).toMatchObject({ model: 'gpt-4o-2024-05-13', input: 5, output: 15 });
    expect(book.lookup({ model: 'gpt-4o-2024-08-06' })).toMatchObject({ model: 'gpt-4o', input: 2.5 });
  });

  it('strips provider and models/ prefixes and dotted Claude versions', () => {
    expect(book.lookup({ model: 'openai/gpt-4.1' })?.model).toBe('gpt-4.1');
    expect(book.lookup({ model: 'models/gemini-2.5-flash' })?.model).toBe('gemini-2.5-flash');
    expect(book.lookup({ model: 'anthropic/claude-sonnet-4.5' })?.model).toBe('claude-sonnet-4-5');
    expect(book.lookup({ model: 'GPT-4.1' })?.model).toBe('gpt-4.1');
  });

  it('returns null for unknown models', () => {
    expect(book.lookup({ provider: 'ollama', model: 'llama3.2:3b' })).toBeNull();
    expect(candidateModelNames('openrouter/anthropic/claude-haiku-4.5')).toContain('claude-haiku-4-5');
  });
});

describe('price overrides', () => {
  it('prices every model of a local provider, at zero explicitly', () => {
    const book = createPriceBook(parsePriceOverrides({ 'ollama/*': { input: 0, output: 0 } }));
    expect(book.lookup({ provider: 'ollama', model: 'llama3.2:3b' })).toMatchObject({ input: 0, output: 0, origin: 'override' });
    expect(book.lookup({ provider: 'lmstudio', model: 'llama3.2:3b' })).toBeNull();
  });

  it('merges a partial override over the catalog price', () => {
    const book = createPriceBook({ 'gpt-4.1': { input: 1.5 } });
    expect(book.lookup({ provider: 'openai', model: 'gpt-4.1-2025-04-14' })).toMatchObject({
      input: 1.5,
      cachedInput: 0.5,
      output: 8,
      origin: 'override',
    });
  });

  it('lets provider/model win over model and over provider/*', () => {
    const book = createPriceBook({
      'my-model': { input: 1, output: 2 },
      'vllm/my-model': { input: 3, output: 4 },
      'vllm/*': { input: 5, output: 6 },
    });
    expect(book.lookup({ provider: 'vllm', model: 'my-model' })).toMatchObject({ input: 3, output: 4 });
    expect(book.lookup({ provider: 'other', model: 'my-model' })).toMatchObject({ input: 1, output: 2 });
    expect(book.lookup({ provider: 'vllm', model: 'another' })).toMatchObject({ input: 5, output: 6 });
  });

  it('ignores an override of an unknown model that lacks input or output', () => {
    expect(lookupPrice({ model: 'custom' }, { custom: { input: 1 } })).toBeNull();
  });

  it('rejects malformed prices', () => {
    expect(() => parsePriceOverrides({ x: { input: -1, output: 1 } })).toThrow(/non-negative/);
    expect(() => parsePriceCatalog({ source: 's', date: 'd', models: { m: { provider: 'p', input: 1 } } })).toThrow(/output/);
  });
});
