/**
 * The one Server-Sent Events decoder every provider stream goes through:
 * bytes → lines → events, following the WHATWG event-stream rules. Lines may end in
 * `\n`, `\r\n` or a lone `\r`, and any of them may be split across network chunks
 * (including a `\r\n` pair split between two chunks); comments are skipped; several
 * `data:` lines join with `\n`; an event is dispatched on a blank line.
 */

export interface SseEvent {
  /** The `event:` field, or null when the frame had none. */
  event: string | null;
  data: string;
  id: string | null;
  retry: number | null;
}

export class SseDecoder {
  private readonly textDecoder = new TextDecoder('utf-8');
  private pending = '';
  /** A chunk ended in `\r`: a `\n` starting the next chunk belongs to the same line end. */
  private skipLeadingNewline = false;
  private eventName: string | null = null;
  private dataLines: string[] = [];
  private lastId: string | null = null;
  private retry: number | null = null;

  /** Feeds raw bytes (or text) and returns the events completed by them. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.textDecoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    // An empty chunk (or one holding only part of a UTF-8 sequence) decodes to '': keep waiting for the LF.
    if (this.skipLeadingNewline && text.length > 0) {
      this.skipLeadingNewline = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    if (this.pending.length > 0) {
      text = this.pending + text;
      this.pending = '';
    }
    let start = 0;
    const length = text.length;
    while (start < length) {
      let end = -1;
      for (let i = start; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code === 10 || code === 13) {
          end = i;
          break;
        }
      }
      if (end === -1) break;
      this.processLine(text.slice(start, end), events);
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
    }
    if (start < length) this.pending = text.slice(start);
    return events;
  }

  /**
   * Ends the stream. A final event that was not followed by a blank line is still
   * dispatched: some upstreams close the connection right after their last `data:` line.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.textDecoder.decode();
    if (rest.length > 0) events.push(...this.push(rest));
    if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = '';
      this.processLine(line, events);
    }
    this.dispatch(events);
    return events;
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
        this.dataLines.push(value);
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
    this.eventName = null;
  }
}

/** Decodes an async byte stream into SSE events as an async iterable. */
export async function* decodeSseStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder();
  for await (const chunk of body) {
    for (const event of decoder.push(chunk)) yield event;
  }
  for (const event of decoder.end()) yield event;
}
