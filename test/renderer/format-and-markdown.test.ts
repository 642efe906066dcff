/** Numbers as the window shows them, and the Markdown parser that renders replies without HTML. */
import { describe, expect, it } from 'vitest';
import { formatChange, formatCompact, formatCount, formatLatency, formatRelativeTime, formatUsd } from '../../src/renderer/src/format/format-values.js';
import { highlightCode } from '../../src/renderer/src/markdown/highlight-code.js';
import { parseInline, parseMarkdown } from '../../src/renderer/src/markdown/parse-markdown.js';
import { curlCommand, modelLabel, playgroundSeedFrom, statusText } from '../../src/renderer/src/inspector/request-display.js';
import { summary } from './request-summary-fixture.js';

describe('formatting', () => {
  it('shows money with adaptive precision and unpriced as such', () => {
    expect(formatUsd(184_000)).toBe('$0.000184');
    expect(formatUsd(1_270_000_000)).toBe('$1.27');
    expect(formatUsd(42_300_000)).toBe('$0.0423');
    expect(formatUsd(1_204_500_000_000)).toBe('$1,204.50');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(null)).toBe('unpriced');
  });

  it('shows tokens with separators, latency with one decimal under 10 ms, and relative times', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCompact(12_345)).toBe('12.3k');
    expect(formatLatency(4.25)).toBe('4.3 ms');
    expect(formatLatency(1234)).toBe('1,234 ms');
    expect(formatLatency(12_345)).toBe('12.3 s');
    expect(formatRelativeTime(1000, 1000 + 90_000)).toBe('2 min ago');
    expect(formatChange(12, 10)).toEqual({ text: '+20%', direction: 'up' });
    expect(formatChange(5, 0)).toEqual({ text: 'new', direction: 'up' });
    expect(formatChange(0, 0)).toBeNull();
  });
});

describe('parseMarkdown', () => {
  it('keeps an unclosed fence (a reply still streaming) as code', () => {
    const blocks = parseMarkdown('Here:\n```ts\nconst a = 1;');
    expect(blocks[1]).toEqual({ type: 'code', language: 'ts', code: 'const a = 1;', closed: false });
  });

  it('parses headings, lists, quotes and tables', () => {
    const blocks = parseMarkdown('# Title\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    expect(blocks.map((block) => block.type)).toEqual(['heading', 'list', 'list', 'quote', 'table']);
    expect(blocks[1]).toMatchObject({ ordered: false, items: [[{ type: 'paragraph' }], [{ type: 'paragraph' }]] });
    expect(blocks[2]).toMatchObject({ ordered: true, start: 1 });
  });

  it('parses inline markup and drops unsafe link targets', () => {
    expect(parseInline('**bold** and `code` and *it*')).toEqual([
      { type: 'strong', children: [{ type: 'text', text: 'bold' }] },
      { type: 'text', text: ' and ' },
      { type: 'code', text: 'code' },
      { type: 'text', text: ' and ' },
      { type: 'emphasis', children: [{ type: 'text', text: 'it' }] },
    ]);
    expect(parseInline('[x](javascript:alert(1))').some((node) => node.type === 'link')).toBe(false);
    expect(parseInline('[x](javascript:void)')).toEqual([{ type: 'text', text: 'x' }]);
    expect(parseInline('[docs](https://example.com)')[0]).toMatchObject({ type: 'link', href: 'https://example.com' });
    expect(parseInline('snake_case_name')).toEqual([{ type: 'text', text: 'snake_case_name' }]);
  });

  it('highlights code into tokens', () => {
    const tokens = highlightCode('const x = "a"; // note', 'ts');
    expect(tokens.find((token) => token.kind === 'keyword')?.text).toBe('const');
    expect(tokens.find((token) => token.kind === 'string')?.text).toBe('"a"');
    expect(tokens.find((token) => token.kind === 'comment')?.text).toBe('// note');
  });
});

describe('request display', () => {
  it('marks cached answers and requests the limits refused, not an upstream 429', () => {
    expect(statusText(summary({ id: 'a' }))).toBe('200');
    expect(statusText(summary({ id: 'b', cacheHit: true }))).toBe('200 cached');
    expect(statusText(summary({ id: 'c', status: 'error', httpStatus: 429, errorType: 'budget_exceeded' }))).toBe('429 refused');
    expect(statusText(summary({ id: 'd', status: 'error', httpStatus: 429, errorType: 'rate_limit_error' }))).toBe('429');
  });

  it('labels models requested → resolved and builds curl and playground seeds', () => {
    expect(modelLabel({ requestedModel: 'fast', resolvedModel: 'gpt-4.1-mini' })).toBe('fast → gpt-4.1-mini');
    expect(modelLabel({ requestedModel: 'openai/gpt-4.1', resolvedModel: 'gpt-4.1' })).toBe('openai/gpt-4.1');
    const curl = curlCommand({ endpoint: '/v1/chat/completions', requestBody: { model: 'm', messages: [{ role: 'user', content: "it's" }] }, tags: [{ key: 'team', value: 'qa' }] }, 'http://127.0.0.1:4141');
    expect(curl).toContain('curl http://127.0.0.1:4141/v1/chat/completions');
    expect(curl).toContain('$SWITCHYARD_API_KEY');
    expect(curl).toContain(`it'\\''s`);
    const seed = playgroundSeedFrom({ requestedModel: 'm', requestBody: { model: 'm', temperature: 0.3, max_completion_tokens: 50, messages: [{ role: 'system', content: 'S' }, { role: 'user', content: [{ type: 'text', text: 'Q' }] }] } });
    expect(seed).toEqual({ model: 'm', system: 'S', messages: [{ role: 'user', content: 'Q' }], temperature: 0.3, maxTokens: 50, reasoningEffort: null });
  });
});
