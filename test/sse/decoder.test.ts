/**
 * The shared SSE decoder, fed awkwardly split input: every split point, every line ending,
 * comments, multi-line data, the other fields, and UTF-8 sequences cut between chunks.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SSE_EVENT_SIZE, SseDecoder, SseEventTooLargeError, decodeSseStream, type SseEvent } from '../../src/main/gateway/sse/decoder.js';

const enc = new TextEncoder();

function ev(data: string, extra: Partial<SseEvent> = {}): SseEvent {
  return { event: null, data, id: null, retry: null, ...extra };
}

/** Decodes `chunks` (strings are encoded to bytes unless `asText`) with push + end. */
function decode(chunks: Array<string | Uint8Array>, options: { asText?: boolean } = {}): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  for (const chunk of chunks) {
    events.push(...decoder.push(typeof chunk === 'string' && !options.asText ? enc.encode(chunk) : chunk));
  }
  events.push(...decoder.end());
  return events;
}

/** Every way to cut `bytes` into two pieces, plus three pieces around each point. */
function* splits(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), new Uint8Array(0), bytes.subarray(i)];
}

function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_b, i) => bytes.subarray(i, i + 1));
}

interface Case {
  name: string;
  input: string;
  expected: SseEvent[];
}

const CASES: Case[] = [
  {
    name: 'two events, LF',
    input: 'data: {"a":1}\n\ndata: {"b":"two"}\n\ndata: [DONE]\n\n',
    expected: [ev('{"a":1}'), ev('{"b":"two"}'), ev('[DONE]')],
  },
  {
    name: 'CRLF line endings',
    input: 'data: one\r\n\r\ndata: two\r\n\r\n',
    expected: [ev('one'), ev('two')],
  },
  {
    name: 'lone CR line endings',
    input: 'data: one\r\rdata: two\r\r',
    expected: [ev('one'), ev('two')],
  },
  {
    name: 'mixed line endings',
    input: 'data: one\r\n\ndata: two\n\r\ndata: three\r\r\n',
    expected: [ev('one'), ev('two'), ev('three')],
  },
  {
    name: 'comments are skipped, also between data lines',
    input: ': keep-alive\n\n:another\ndata: a\n: in the middle\ndata: b\n\n: OPENROUTER PROCESSING\n\n',
    expected: [ev('a\nb')],
  },
  {
    name: 'multi-line data joins with \\n',
    input: 'data: line one\ndata: line two\ndata:\ndata: line four\n\n',
    expected: [ev('line one\nline two\n\nline four')],
  },
  {
    name: 'event, id and retry fields',
    input: 'event: message_start\nid: 7\nretry: 1500\ndata: {"x":1}\n\nevent: ping\ndata: {}\n\ndata: plain\n\n',
    expected: [
      ev('{"x":1}', { event: 'message_start', id: '7', retry: 1500 }),
      ev('{}', { event: 'ping', id: '7', retry: 1500 }),
      ev('plain', { id: '7', retry: 1500 }),
    ],
  },
  {
    name: 'a non-numeric retry and an id with NUL are ignored',
    input: 'retry: soon\nid: a\0b\ndata: x\n\n',
    expected: [ev('x')],
  },
  {
    name: 'field without colon (data with empty value) and unknown fields',
    input: 'data\nfoo: bar\nbaz\n\ndata\ndata\n\n',
    expected: [ev(''), ev('\n')],
  },
  {
    name: 'only the first space after the colon is removed',
    input: 'data:no-space\n\ndata:  two spaces\n\n',
    expected: [ev('no-space'), ev(' two spaces')],
  },
  {
    name: 'an event name without data is not dispatched and does not leak',
    input: 'event: lonely\n\ndata: after\n\n',
    expected: [ev('after')],
  },
  {
    name: 'final event without trailing blank line',
    input: 'data: first\n\ndata: last',
    expected: [ev('first'), ev('last')],
  },
  {
    name: 'final event ended by one newline only',
    input: 'data: first\n\ndata: last\n',
    expected: [ev('first'), ev('last')],
  },
  {
    name: 'UTF-8 multibyte characters',
    input: 'data: {"t":"héllo — wörld ✓ 你好 🎉👍🏽"}\n\ndata: é\r\n\r\n',
    expected: [ev('{"t":"héllo — wörld ✓ 你好 🎉👍🏽"}'), ev('é')],
  },
  {
    name: 'a leading BOM is ignored',
    input: '\uFEFFdata: bom\n\n',
    expected: [ev('bom')],
  },
];

describe('SseDecoder', () => {
  for (const testCase of CASES) {
    describe(testCase.name, () => {
      const bytes = enc.encode(testCase.input);

      it('whole', () => {
        expect(decode([bytes])).toEqual(testCase.expected);
      });

      it('at every split point (two and three pieces, incl. an empty chunk)', () => {
        for (const pieces of splits(bytes)) {
          const cut = pieces.map((piece) => piece.length).join('+');
          expect(decode(pieces), `split ${cut}`).toEqual(testCase.expected);
        }
      });

      it('one byte at a time', () => {
        expect(decode(bytewise(bytes))).toEqual(testCase.expected);
      });

      it('as text, one character at a time', () => {
        // A leading BOM given as text is not stripped (that is the byte decoder's job).
        if (testCase.input.startsWith('\uFEFF')) return;
        expect(decode(Array.from(testCase.input), { asText: true })).toEqual(testCase.expected);
      });
    });
  }

  it('CR at the end of one chunk and LF at the start of the next is one line end', () => {
    expect(decode(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([ev('a\nb')]);
  });

  it('CR at the end of a chunk, then an empty chunk, then LF is still one line end', () => {
    expect(decode(['data: a\r', '', '\ndata: b\r\n\r\n'])).toEqual([ev('a\nb')]);
    expect(decode(['data: a\r', new Uint8Array(0), '\n\r\n'])).toEqual([ev('a')]);
  });

  it('CR at the end of a chunk followed by a non-LF chunk', () => {
    expect(decode(['data: a\r', 'data: b\r', '\r'])).toEqual([ev('a\nb')]);
  });

  it('a UTF-8 character cut between chunks right before the line end', () => {
    const bytes = enc.encode('data: 🎉\n\n');
    // 🎉 is 4 bytes at offset 6..9; cut after each of its bytes.
    for (let cut = 7; cut <= 9; cut++) {
      expect(decode([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([ev('🎉')]);
    }
  });

  it('events are returned as soon as they are complete', () => {
    const decoder = new SseDecoder();
    expect(decoder.push(enc.encode('data: a\n'))).toEqual([]);
    expect(decoder.push(enc.encode('\ndata: b'))).toEqual([ev('a')]);
    expect(decoder.push(enc.encode('\n'))).toEqual([]);
    expect(decoder.push(enc.encode('\n'))).toEqual([ev('b')]);
    expect(decoder.end()).toEqual([]);
  });

  it('a truncated UTF-8 sequence at the very end becomes U+FFFD, not a crash', () => {
    const bytes = enc.encode('data: é');
    expect(decode([bytes.subarray(0, bytes.length - 1)])).toEqual([ev('\uFFFD')]);
  });

  it('only a byte order mark at the very start is dropped; one later in the stream is text, however the chunks end', () => {
    const bom = enc.encode('\uFEFF');
    const later = enc.encode('\uFEFFb\n\n');
    // The first chunk ends in ASCII or inside a character; the later chunk starts with U+FEFF either way.
    expect(decode([new Uint8Array([...bom, ...enc.encode('data: a\n\ndata: ')]), later])).toEqual([ev('a'), ev('\uFEFFb')]);
    expect(decode([new Uint8Array([...bom, ...enc.encode('data: é')]), enc.encode('\n\ndata: é'), later])).toEqual([ev('é'), ev('é\uFEFFb')]);
    // A BOM cut between the first two chunks is still the stream's start.
    expect(decode([bom.subarray(0, 2), new Uint8Array([...bom.subarray(2), ...enc.encode('data: c\n\n')])])).toEqual([ev('c')]);
  });

  it('invalid UTF-8 reads as TextDecoder reads it, whether or not a chunk ends inside a character', () => {
    const invalid = new Uint8Array([...enc.encode('data: a'), 0xff, 0xc3, 0x28, 0xe2, 0x82, ...enc.encode('b'), 0xf0, 0x9f, 0x8e, ...enc.encode('\n\n')]);
    const expected = new TextDecoder().decode(invalid).slice('data: '.length, -2);
    for (const pieces of splits(invalid)) expect(decode(pieces)).toEqual([ev(expected)]);
  });

  it('decodeSseStream over an async byte stream', async () => {
    async function* source(): AsyncGenerator<Uint8Array> {
      yield enc.encode('data: x\r');
      yield enc.encode('\n\r');
      yield enc.encode('\nevent: e\ndata: y');
    }
    const events: SseEvent[] = [];
    for await (const event of decodeSseStream(source())) events.push(event);
    expect(events).toEqual([ev('x'), ev('y', { event: 'e' })]);
  });

  it('a long stream of many small events split at a fixed stride decodes identically', () => {
    let text = '';
    const expected: SseEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const data = JSON.stringify({ i, t: `chunk ${i} ✓ ${'é'.repeat(i % 5)}` });
      const eol = i % 3 === 0 ? '\r\n' : i % 3 === 1 ? '\n' : '\r';
      text += `data: ${data}${eol}${eol}`;
      if (i % 10 === 0) text += `: ping${eol}`;
      expected.push(ev(data));
    }
    const bytes = enc.encode(text);
    for (const stride of [1, 2, 3, 5, 7, 13, 64, 1000]) {
      const pieces: Uint8Array[] = [];
      for (let offset = 0; offset < bytes.length; offset += stride) pieces.push(bytes.subarray(offset, offset + stride));
      expect(decode(pieces), `stride ${stride}`).toEqual(expected);
    }
  });
});

/** `bytes` in pieces of `size`. */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) result.push(bytes.subarray(offset, offset + size));
  return result;
}

describe('SseDecoder on long lines (bench/sse-decoder.ts prints the timings)', () => {
  it('a 16 MB data line in 16 KB chunks decodes to the exact line, then the stream goes on', () => {
    const size = 16_000_000; // 16 MB, just under the default 16 MiB cap
    const payload = Buffer.alloc(size);
    // not one repeated byte: every position is checked
    for (let index = 0; index < size; index++) payload[index] = 97 + (index % 26);
    const bytes = Buffer.concat([Buffer.from('event: big\ndata: '), payload, Buffer.from('\r\n\r\ndata: next\n\n')]);
    const decoder = new SseDecoder();
    const events: SseEvent[] = [];
    for (const piece of pieces(bytes, 16 * 1024)) events.push(...decoder.push(piece));
    events.push(...decoder.end());
    expect(events.length).toBe(2);
    expect(events[0]!.event).toBe('big');
    expect(events[0]!.data.length).toBe(size);
    expect(events[0]!.data === payload.toString('latin1')).toBe(true);
    expect(events[1]).toEqual(ev('next'));
  });

  it('a long line split with \\r\\n across chunks, with multi-byte characters cut at chunk ends', () => {
    const line = 'é✓🎉'.repeat(50_000);
    const bytes = enc.encode(`data: ${line}\r\ndata: ${line}\r\n\r\n: c\rdata: z\r`);
    for (const size of [7, 1000, 4096]) {
      expect(decode(pieces(bytes, size)), `pieces of ${size}`).toEqual([ev(`${line}\n${line}`), ev('z')]);
    }
  });

  it('a final unterminated long line is dispatched by end()', () => {
    const line = 'x'.repeat(300_000);
    expect(decode(pieces(enc.encode(`data: ${line}`), 1024))).toEqual([ev(line)]);
  });
});

describe('SseDecoder event cap', () => {
  it('defaults to 16 MiB', () => {
    expect(DEFAULT_MAX_SSE_EVENT_SIZE).toBe(16 * 1024 * 1024);
  });

  it('an event at the cap passes; one character more throws SseEventTooLargeError naming the limit', () => {
    const decoder = new SseDecoder({ maxEventSize: 1000 });
    expect(decoder.push(`data: ${'a'.repeat(1000)}\n\n`)).toEqual([ev('a'.repeat(1000))]);
    let caught: unknown;
    try {
      decoder.push(`data: ${'a'.repeat(1001)}\n\n`);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SseEventTooLargeError);
    expect((caught as SseEventTooLargeError).limit).toBe(1000);
    expect((caught as SseEventTooLargeError).code).toBe('SSE_EVENT_TOO_LARGE');
    expect((caught as Error).message).toContain('1000 characters');
  });

  it('a line that never ends is refused as soon as it passes the cap, not at its end', () => {
    const decoder = new SseDecoder({ maxEventSize: 64 * 1024 });
    const chunk = enc.encode('x'.repeat(16 * 1024));
    decoder.push(enc.encode('data: '));
    let pushed = 0;
    expect(() => {
      for (; pushed < 100; pushed++) decoder.push(chunk);
    }).toThrow(/64 KiB \(65536 characters\)/);
    expect(pushed).toBe(3); // the fourth 16 KiB chunk passes 64 KiB (with "data: ")
  });

  it('many data lines adding up past the cap are refused too', () => {
    const decoder = new SseDecoder({ maxEventSize: 10_000 });
    const line = `data: ${'b'.repeat(999)}\n`;
    expect(() => {
      for (let index = 0; index < 20; index++) decoder.push(line);
    }).toThrow(SseEventTooLargeError);
  });

  it('the cap is per event: many events under it pass, comments do not count', () => {
    const decoder = new SseDecoder({ maxEventSize: 100 });
    const events: SseEvent[] = [];
    for (let index = 0; index < 1000; index++) events.push(...decoder.push(`data: ${'c'.repeat(100)}\n\n: ping\n`));
    expect(events.length).toBe(1000);
  });

  it('decodeSseStream passes the option on and throws the typed error', async () => {
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 10; index++) yield enc.encode('data: ' + 'x'.repeat(100));
    }
    const read = async (): Promise<void> => {
      for await (const _event of decodeSseStream(source(), { maxEventSize: 500 })) void _event;
    };
    await expect(read()).rejects.toBeInstanceOf(SseEventTooLargeError);
  });
});
