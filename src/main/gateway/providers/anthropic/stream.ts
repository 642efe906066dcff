/**
 * Anthropic Messages SSE → canonical stream events.
 *
 * message_start → `start` (usage kept); text and thinking deltas → `text-delta` /
 * `reasoning-delta`; at the end of each thinking block one `reasoning-delta` with text '' and
 * the block's `signature`, and a redacted block as one `redactedData` event (the encoder turns
 * both into `delta.thinking_blocks`); tool_use → `tool-call-start` with a tool index counted
 * apart from Anthropic's block index, input_json_delta → `tool-call-delta` (a call whose
 * arguments never arrive gets `{}`); message_delta → `finish` and the cumulative usage;
 * message_stop ends the stream; `error` → an error event. ping, citations and event types
 * this code does not know are ignored.
 */
import type { SseEvent } from '../../sse/decoder.js';
import type { StreamEvent } from '../../types.js';
import type { StreamTranslator, UpstreamTarget } from '../types.js';
import { streamErrorBody } from './errors.js';
import { mapStopReason } from './finish-reason.js';
import { toolArguments } from './response.js';
import { mergeStreamUsage, normaliseAnthropicUsage } from './usage.js';
import type { AnthropicUsage } from './wire-types.js';

type OpenBlock =
  | { kind: 'text' }
  | { kind: 'thinking'; signature: string }
  | { kind: 'tool'; index: number; sentArguments: boolean; startInput: unknown }
  | { kind: 'other' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class AnthropicStreamTranslator implements StreamTranslator {
  private stopped = false;
  private failed = false;
  private finished = false;
  private usageSent = false;
  private usage: AnthropicUsage = {};
  private readonly blocks = new Map<number, OpenBlock>();
  private nextToolIndex = 0;

  constructor(private readonly target: UpstreamTarget) {}

  get done(): boolean {
    return this.stopped || this.failed;
  }

  push(event: SseEvent): StreamEvent[] {
    if (this.done) return [];
    let payload: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(event.data);
      if (!isRecord(parsed)) throw new Error('not an object');
      payload = parsed;
    } catch {
      return this.fail(`${this.target.provider.name} sent a stream event that is not a JSON object`, 'bad_upstream_response');
    }
    const type = typeof payload.type === 'string' ? payload.type : event.event;
    switch (type) {
      case 'message_start':
        return this.messageStart(payload.message);
      case 'content_block_start':
        return this.blockStart(payload.index, payload.content_block);
      case 'content_block_delta':
        return this.blockDelta(payload.index, payload.delta);
      case 'content_block_stop':
        return this.blockStop(payload.index);
      case 'message_delta':
        return this.messageDelta(payload);
      case 'message_stop':
        return this.messageStop();
      case 'error':
        this.failed = true;
        return [{ type: 'error', error: streamErrorBody(this.target.provider.name, event.data) }];
      default:
        // ping, and event types newer than this code
        return [];
    }
  }

  end(): StreamEvent[] {
    if (this.done) return [];
    return this.fail(`${this.target.provider.name} closed the stream before it finished`, 'upstream_stream_incomplete');
  }

  private fail(message: string, code: string): StreamEvent[] {
    this.failed = true;
    return [{ type: 'error', error: { status: 502, body: { message, type: 'upstream_error', param: null, code } } }];
  }

  private messageStart(message: unknown): StreamEvent[] {
    const record = isRecord(message) ? message : {};
    if (isRecord(record.usage)) this.usage = mergeStreamUsage(this.usage, record.usage as AnthropicUsage);
    return [{ type: 'start', id: typeof record.id === 'string' ? record.id : '', model: typeof record.model === 'string' ? record.model : this.target.model }];
  }

  private blockStart(index: unknown, block: unknown): StreamEvent[] {
    if (typeof index !== 'number' || !isRecord(block)) return [];
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        return typeof block.text === 'string' && block.text.length > 0 ? [{ type: 'text-delta', text: block.text }] : [];
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking', signature: typeof block.signature === 'string' ? block.signature : '' });
        return typeof block.thinking === 'string' && block.thinking.length > 0 ? [{ type: 'reasoning-delta', text: block.thinking }] : [];
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'other' });
        return typeof block.data === 'string' ? [{ type: 'reasoning-delta', text: '', redactedData: block.data }] : [];
      case 'tool_use': {
        const toolIndex = this.nextToolIndex++;
        this.blocks.set(index, { kind: 'tool', index: toolIndex, sentArguments: false, startInput: block.input });
        return [{ type: 'tool-call-start', index: toolIndex, id: typeof block.id === 'string' ? block.id : `toolu_${toolIndex}`, name: typeof block.name === 'string' ? block.name : '' }];
      }
      default:
        // server_tool_use, web_search_tool_result …: not part of the OpenAI shape
        this.blocks.set(index, { kind: 'other' });
        return [];
    }
  }

  private blockDelta(index: unknown, delta: unknown): StreamEvent[] {
    if (typeof index !== 'number' || !isRecord(delta)) return [];
    const block = this.blocks.get(index);
    switch (delta.type) {
      case 'text_delta':
        return block?.kind === 'text' && typeof delta.text === 'string' && delta.text.length > 0 ? [{ type: 'text-delta', text: delta.text }] : [];
      case 'thinking_delta':
        return block?.kind === 'thinking' && typeof delta.thinking === 'string' && delta.thinking.length > 0 ? [{ type: 'reasoning-delta', text: delta.thinking }] : [];
      case 'signature_delta':
        if (block?.kind === 'thinking' && typeof delta.signature === 'string') block.signature += delta.signature;
        return [];
      case 'input_json_delta':
        // The first fragment is often ''; only non-empty fragments are worth a chunk.
        if (block?.kind !== 'tool' || typeof delta.partial_json !== 'string' || delta.partial_json.length === 0) return [];
        block.sentArguments = true;
        return [{ type: 'tool-call-delta', index: block.index, argumentsDelta: delta.partial_json }];
      default:
        // citations_delta and newer delta types
        return [];
    }
  }

  private blockStop(index: unknown): StreamEvent[] {
    if (typeof index !== 'number') return [];
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    if (block?.kind === 'thinking') return [{ type: 'reasoning-delta', text: '', signature: block.signature }];
    if (block?.kind === 'tool' && !block.sentArguments) {
      return [{ type: 'tool-call-delta', index: block.index, argumentsDelta: toolArguments(block.startInput) }];
    }
    return [];
  }

  private messageDelta(payload: Record<string, unknown>): StreamEvent[] {
    const events: StreamEvent[] = [];
    const delta = isRecord(payload.delta) ? payload.delta : {};
    if (!this.finished) {
      this.finished = true;
      events.push({ type: 'finish', reason: mapStopReason(typeof delta.stop_reason === 'string' ? delta.stop_reason : null) });
    }
    if (isRecord(payload.usage)) this.usage = mergeStreamUsage(this.usage, payload.usage as AnthropicUsage);
    this.usageSent = true;
    events.push({ type: 'usage', usage: normaliseAnthropicUsage(this.usage) });
    return events;
  }

  private messageStop(): StreamEvent[] {
    this.stopped = true;
    const events: StreamEvent[] = [];
    if (!this.finished) {
      this.finished = true;
      events.push({ type: 'finish', reason: mapStopReason(null) });
    }
    if (!this.usageSent) {
      this.usageSent = true;
      events.push({ type: 'usage', usage: normaliseAnthropicUsage(this.usage) });
    }
    return events;
  }
}
