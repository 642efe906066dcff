/** The decoder's keepRaw mode: every event carries its raw text, and the raws put together are the stream unchanged. */
import { describe, expect, it } from 'vitest';
import { SseDecoder } from '../../src/main/gateway/sse/decoder.js';

const STREAM = [
  'event: message_start\ndata: {"type":"message_start"}\n\n',
  ': keep-alive\n\n',
  'event: ping\r\ndata: {"type": "ping"}\r\n\r\n',
  'event: content_block_delta\rdata: {"a":1}\rdata: {"b":2}\r\r',
  '\n\nevent: future_event\ndata: {"type":"future_event","x":"ü€😀"}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join('');

/** Feeds the chunks as the pipeline does: `text` is what a pass-through forwards, in order. */
function feed(chunks: Array<string | Uint8Array>): { raws: string[]; text: string; data: string[] } {
  const decoder = new SseDecoder({ keepRaw: true });
  const raws: string[] = [];
  const data: string[] = [];
  let text = '';
  const take = (events: ReturnType<SseDecoder['push']>): void => {
    for (const event of events) {
      raws.push(event.raw!);
      data.push(event.data);
      text += event.raw!;
    }
    text += decoder.takeRaw();
  };
  for (const chunk of chunks) take(decoder.push(chunk));
  take(decoder.end());
  return { raws, text, data };
}

describe('SseDecoder keepRaw', () => {
  it('in one piece: each event its frame, the comment frame handed out with the next event', () => {
    const { raws, data } = feed([STREAM]);
    expect(data).toEqual(['{"type":"message_start"}', '{"type": "ping"}', '{"a":1}\n{"b":2}', '{"type":"future_event","x":"ü€😀"}', '{"type":"message_stop"}']);
    expect(raws[0]).toBe('event: message_start\ndata: {"type":"message_start"}\n\n');
    expect(raws[1]).toBe(': keep-alive\n\nevent: ping\r\ndata: {"type": "ping"}\r\n\r\n');
    expect(raws.join('')).toBe(STREAM);
  });

  it('byte by byte and in every split of two, the raws are the stream', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    const single = feed([...bytes].map((byte) => Uint8Array.of(byte)));
    expect(single.text).toBe(STREAM);
    expect(single.raws).toHaveLength(5);
    for (let at = 1; at < bytes.length; at += 7) {
      const split = feed([bytes.subarray(0, at), bytes.subarray(at)]);
      expect(split.text).toBe(STREAM);
      expect(split.data).toEqual(single.data);
    }
  });

  it('a trailing comment comes out of takeRaw; a last event without its blank line gets its raw at end()', () => {
    const decoder = new SseDecoder({ keepRaw: true });
    expect(decoder.push('data: 1\n\n: ping\n\n')).toMatchObject([{ data: '1', raw: 'data: 1\n\n' }]);
    expect(decoder.takeRaw()).toBe(': ping\n\n');
    expect(decoder.takeRaw()).toBe('');
    expect(decoder.push('data: 2')).toEqual([]);
    expect(decoder.end()).toMatchObject([{ data: '2', raw: 'data: 2' }]);
  });

  it('without keepRaw, no raw', () => {
    expect(new SseDecoder().push('data: 1\n\n')[0]).not.toHaveProperty('raw');
  });
});
