/**
 * The one Server-Sent Events decoder every provider stream goes through:
 * bytes → lines → events, following the WHATWG event-stream rules. Lines may end in
 * `\n`, `\r\n` or a lone `\r`, and any of them may be split across network chunks
 * (including a `\r\n` pair split between two chunks); comments are skipped; several
 * `data:` lines join with `\n`; an event is dispatched on a blank line.
 *
 * Each byte is scanned once, whatever the chunking (a 16 MB line in 16 KB chunks is as
 * cheap as in one piece), and one event is capped (16 MiB by default): an upstream that
 * streams more gets `SseEventTooLargeError`, which the gateway answers with an error frame.
 */

export interface SseEvent {
  /** The `event:` field, or null when the frame had none. */
  event: string | null;
  data: string;
  id: string | null;
  retry: number | null;
  /**
   * With `keepRaw`: the text of this event as it arrived, from the end of the previous
   * event (comment-only or empty frames before it included) through its closing blank line.
   * The raws of all events, in order, plus `takeRaw()`, are the stream's text unchanged.
   */
  raw?: string;
}

/** The default cap on one event: 16 MiB of text (see `SseDecoderOptions.maxEventSize`). */
export const DEFAULT_MAX_SSE_EVENT_SIZE = 16 * 1024 * 1024;

export interface SseDecoderOptions {
  /**
   * The most text one event may hold, in UTF-16 code units (the same as bytes for ASCII
   * JSON): its `data:` lines together, or any single line still waiting for its end.
   * Past it, `push`/`end` throw `SseEventTooLargeError`. Default 16 MiB.
   */
  maxEventSize?: number;
  /** Attach each event's raw text (`SseEvent.raw`), for a same-format pass-through. */
  keepRaw?: boolean;
}

/** An upstream sent one event (or one line) larger than the decoder's cap. */
export class SseEventTooLargeError extends Error {
  readonly code = 'SSE_EVENT_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`an event larger than ${formatSize(limit)}, the limit for one streamed event`);
    this.name = 'SseEventTooLargeError';
  }
}

/** 16777216 → "16 MiB (16777216 characters)"; sizes that are not whole MiB/KiB as they are. */
function formatSize(limit: number): string {
  if (limit >= 1024 * 1024 && limit % (1024 * 1024) === 0) return `${limit / 1024 / 1024} MiB (${limit} characters)`;
  if (limit >= 1024 && limit % 1024 === 0) return `${limit / 1024} KiB (${limit} characters)`;
  return `${limit} characters`;
}

export class SseDecoder {
  /**
   * For chunks that may end inside a character (the leading BOM is dropped by `decode`, at the
   * stream's start only). Made on the first such chunk: most streams never need it, and one is
   * a native converter to build and collect per stream.
   */
  private textDecoder: InstanceType<typeof TextDecoder> | null = null;
  /** The text decoder may hold the start of a character cut at a chunk's end: the next chunk goes through it too. */
  private decoderHolds = false;
  /** No text decoded yet: a byte order mark there is dropped. */
  private atStart = true;
  private readonly maxEventSize: number;
  /**
   * The line not yet ended, in the pieces it arrived in: joined once, when its end comes,
   * so a long line costs time in proportion to its length, not to its length squared.
   */
  private pending: string[] = [];
  private pendingLength = 0;
  /** A chunk ended in `\r`: a `\n` starting the next chunk belongs to the same line end. */
  private skipLeadingNewline = false;
  private eventName: string | null = null;
  private dataLines: string[] = [];
  /** Characters in `dataLines`, for the cap. */
  private dataLength = 0;
  private lastId: string | null = null;
  private retry: number | null = null;
  private readonly keepRaw: boolean;
  /** Raw text of the frame being read, in the pieces it arrived in (keepRaw). */
  private rawPending: string[] = [];
  /** Raw text of finished frames that held no event (comments, empty frames), not yet handed out. */
  private rawOrphan = '';

  constructor(options: SseDecoderOptions = {}) {
    this.maxEventSize = options.maxEventSize ?? DEFAULT_MAX_SSE_EVENT_SIZE;
    this.keepRaw = options.keepRaw === true;
  }

  /**
   * (keepRaw) The raw text of finished frames that held no event (a keep-alive comment),
   * handed out once; '' when there is none.
   */
  takeRaw(): string {
    const rest = this.rawOrphan;
    this.rawOrphan = '';
    return rest;
  }

  /** (keepRaw) A frame ended at `text[frameStart, end)`: its raw goes to the event it dispatched, else waits. */
  private cutRaw(text: string, frameStart: number, end: number, events: SseEvent[], before: number): void {
    this.rawPending.push(text.slice(frameStart, end));
    const raw = this.rawOrphan + this.rawPending.join('');
    this.rawPending = [];
    if (events.length > before) {
      events[events.length - 1]!.raw = raw;
      this.rawOrphan = '';
    } else {
      this.rawOrphan = raw;
    }
  }

  /**
   * Feeds raw bytes (or text) and returns the events completed by them. Only the new text
   * is scanned. Throws `SseEventTooLargeError` once an event outgrows the cap; the decoder
   * is then empty and should not be fed again.
   */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decode(chunk);
    const events: SseEvent[] = [];
    const length = text.length;
    // An empty chunk (or one holding only part of a UTF-8 sequence) decodes to '': keep waiting for the LF.
    if (length === 0) return events;
    let start = 0;
    if (this.skipLeadingNewline) {
      this.skipLeadingNewline = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    // Line ends are found with indexOf (native, fast on long lines); most streams use `\n`
    // only, so the search for `\r` usually runs once per chunk and finds nothing.
    let nextLf = text.indexOf('\n', start);
    let nextCr = text.indexOf('\r', start);
    // keepRaw: where the frame being read begins in this chunk (a `\n` skipped above belongs to it).
    let frameStart = 0;
    while (start < length) {
      if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf('\n', start);
      if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf('\r', start);
      let end: number;
      if (nextLf === -1) {
        if (nextCr === -1) break;
        end = nextCr;
      } else {
        end = nextCr === -1 || nextLf < nextCr ? nextLf : nextCr;
      }
      let line: string;
      if (this.pendingLength === 0) {
        line = text.slice(start, end);
      } else {
        this.checkSize(this.pendingLength + (end - start));
        this.pending.push(text.slice(start, end));
        line = this.pending.join('');
        this.pending = [];
        this.pendingLength = 0;
      }
      const before = events.length;
      this.processLine(line, events);
      if (text.charCodeAt(end) === 13) {
        if (end + 1 < length) {
          start = text.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
        } else {
          this.skipLeadingNewline = true;
          start = end + 1;
        }
      } else {
        start = end + 1;
      }
      if (this.keepRaw && line.length === 0) {
        this.cutRaw(text, frameStart, start, events, before);
        frameStart = start;
      }
    }
    if (this.keepRaw && frameStart < length) this.rawPending.push(frameStart === 0 ? text : text.slice(frameStart));
    if (start < length) {
      this.checkSize(this.pendingLength + (length - start));
      this.pending.push(start === 0 ? text : text.slice(start));
      this.pendingLength += length - start;
    }
    return events;
  }

  /**
   * Ends the stream. A final event that was not followed by a blank line is still
   * dispatched: some upstreams close the connection right after their last `data:` line.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.textDecoder === null ? '' : this.textDecoder.decode();
    if (rest.length > 0) events.push(...this.push(rest));
    if (this.pending.length > 0) {
      const line = this.pending.join('');
      this.pending = [];
      this.pendingLength = 0;
      this.processLine(line, events);
    }
    const before = events.length;
    this.dispatch(events);
    if (this.keepRaw) this.cutRaw('', 0, 0, events, before);
    return events;
  }

  /**
   * Bytes → text. A chunk that ends in an ASCII byte ends between characters, and when
   * nothing is held from the chunk before (almost every chunk of a stream) it is decoded in
   * one native call; otherwise the streaming TextDecoder joins characters cut between chunks.
   * Invalid sequences become U+FFFD either way.
   */
  private decode(chunk: Uint8Array): string {
    const length = chunk.length;
    if (length === 0) return '';
    let text: string;
    if (!this.decoderHolds && chunk[length - 1]! < 0x80) {
      text = (Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, length)).toString('utf8');
    } else {
      text = (this.textDecoder ??= new TextDecoder('utf-8', { ignoreBOM: true })).decode(chunk, { stream: true });
      this.decoderHolds = chunk[length - 1]! >= 0x80;
    }
    if (this.atStart && text.length > 0) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  }

  /** Throws (and lets go of everything held) when the event being read would pass the cap. */
  private checkSize(lineLength: number): void {
    if (this.dataLength + lineLength <= this.maxEventSize) return;
    this.pending = [];
    this.pendingLength = 0;
    this.dataLines = [];
    this.dataLength = 0;
    this.eventName = null;
    this.rawPending = [];
    throw new SseEventTooLargeError(this.maxEventSize);
  }

  private processLine(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        // A line that arrived whole in one chunk was not measured yet.
        if (this.dataLength + value.length > this.maxEventSize) this.checkSize(value.length);
        this.dataLines.push(value);
        this.dataLength += value.length;
        break;
      case 'event':
        this.eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.dataLines.length === 0) {
      this.eventName = null;
      return;
    }
    const data = this.dataLines.length === 1 ? this.dataLines[0]! : this.dataLines.join('\n');
    events.push({ event: this.eventName, data, id: this.lastId, retry: this.retry });
    this.dataLines = [];
    this.dataLength = 0;
    this.eventName = null;
  }
}

/** Decodes an async byte stream into SSE events as an async iterable. */
export async function* decodeSseStream(body: AsyncIterable<Uint8Array>, options: SseDecoderOptions = {}): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder(options);
  for await (const chunk of body) {
    for (const event of decoder.push(chunk)) yield event;
  }
  for (const event of decoder.end()) yield event;
}
