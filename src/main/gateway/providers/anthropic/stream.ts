/**
 * Anthropic Messages SSE → core stream events. Each Anthropic content block is one core block
 * whose id is `blk_<index>` (Anthropic's own block index, 1:1), started at
 * content_block_start and ended at content_block_stop, so an Anthropic encoder can write the
 * upstream's exact event sequence back.
 *
 * - message_start → `response-start` and `usage` (the input side Anthropic reports up front);
 * - text → a text block (text_delta → deltas; citations_delta collected and given as
 *   `{citations}` Anthropic provider data at the block's end);
 * - thinking → a reasoning block (thinking_delta → deltas); its signature (from the start
 *   block and signature_delta) is the block-end's provider data `{signature}`;
 * - redacted_thinking → a redacted reasoning block carrying `{data}` from its start;
 * - tool_use → a tool-call block (input_json_delta → input deltas; a call whose input never
 *   streams gets the start block's input, `{}` when none);
 * - server_tool_use, web_search_tool_result and newer blocks → native Anthropic blocks (their
 *   input_json_delta as input deltas);
 * - message_delta → `finish` (once) and the cumulative `usage`; message_stop ends the stream
 *   (blocks left open are closed); `error` → an error event; ping and unknown events are ignored.
 */
import type { CoreBlockStart, CoreStreamEvent } from '../../../core/types.js';
import { coreErrorFromBody } from '../../core-errors.js';
import type { SseEvent } from '../../sse/decoder.js';
import type { CoreStreamTranslator, UpstreamTarget } from '../types.js';
import { streamErrorBody } from './errors.js';
import { mapStopReason } from './finish-reason.js';
import { toolArguments } from './response.js';
import { coreUsageFromAnthropic, mergeStreamUsage } from './usage.js';
import type { AnthropicUsage } from './wire-types.js';

type OpenBlock =
  | { id: string; kind: 'text'; citations: unknown[] }
  | { id: string; kind: 'thinking'; signature: string }
  | { id: string; kind: 'redacted' }
  | { id: string; kind: 'tool'; sentInput: boolean; startInput: unknown }
  | { id: string; kind: 'native' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The core block id of Anthropic content block `index`. */
export function anthropicBlockId(index: number): string {
  return `blk_${index}`;
}

export class AnthropicStreamTranslator implements CoreStreamTranslator {
  private stopped = false;
  private failed = false;
  private finished = false;
  private usageSent = false;
  private usage: AnthropicUsage = {};
  private readonly blocks = new Map<number, OpenBlock>();

  constructor(private readonly target: UpstreamTarget) {}

  get done(): boolean {
    return this.stopped || this.failed;
  }

  push(event: SseEvent): CoreStreamEvent[] {
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
      case 'error': {
        this.failed = true;
        const { status, body } = streamErrorBody(this.target.provider.name, event.data);
        return [{ type: 'error', error: coreErrorFromBody(status, body) }];
      }
      default:
        // ping, and event types newer than this code
        return [];
    }
  }

  end(): CoreStreamEvent[] {
    if (this.done) return [];
    return this.fail(`${this.target.provider.name} closed the stream before it finished`, 'upstream_stream_incomplete');
  }

  private fail(message: string, code: string): CoreStreamEvent[] {
    this.failed = true;
    return [{ type: 'error', error: coreErrorFromBody(502, { message, type: 'upstream_error', param: null, code }) }];
  }

  private messageStart(message: unknown): CoreStreamEvent[] {
    const record = isRecord(message) ? message : {};
    const events: CoreStreamEvent[] = [{ type: 'response-start', id: typeof record.id === 'string' ? record.id : '', model: typeof record.model === 'string' ? record.model : this.target.model }];
    if (isRecord(record.usage)) {
      this.usage = mergeStreamUsage(this.usage, record.usage as AnthropicUsage);
      this.usageSent = true;
      events.push({ type: 'usage', usage: coreUsageFromAnthropic(this.usage) });
    }
    return events;
  }

  private blockStart(index: unknown, block: unknown): CoreStreamEvent[] {
    if (typeof index !== 'number' || !isRecord(block) || this.blocks.has(index)) return [];
    const id = anthropicBlockId(index);
    const start = (started: CoreBlockStart, open: OpenBlock): CoreStreamEvent[] => {
      this.blocks.set(index, open);
      return [{ type: 'block-start', block: started }];
    };
    switch (block.type) {
      case 'text': {
        const events = start({ id, kind: 'text' }, { id, kind: 'text', citations: Array.isArray(block.citations) ? [...(block.citations as unknown[])] : [] });
        if (typeof block.text === 'string' && block.text.length > 0) events.push({ type: 'block-delta', id, text: block.text });
        return events;
      }
      case 'thinking': {
        const events = start({ id, kind: 'reasoning' }, { id, kind: 'thinking', signature: typeof block.signature === 'string' ? block.signature : '' });
        if (typeof block.thinking === 'string' && block.thinking.length > 0) events.push({ type: 'block-delta', id, text: block.thinking });
        return events;
      }
      case 'redacted_thinking':
        if (typeof block.data !== 'string') break;
        return start({ id, kind: 'reasoning', redacted: true, providerData: { family: 'anthropic', data: { data: block.data } } }, { id, kind: 'redacted' });
      case 'tool_use': {
        const callId = typeof block.id === 'string' ? block.id : `toolu_${index}`;
        return start({ id, kind: 'tool-call', callId, name: typeof block.name === 'string' ? block.name : '', toolKind: 'function' }, { id, kind: 'tool', sentInput: false, startInput: block.input });
      }
    }
    return start({ id, kind: 'native', family: 'anthropic', nativeKind: typeof block.type === 'string' ? block.type : 'unknown', value: block }, { id, kind: 'native' });
  }

  private blockDelta(index: unknown, delta: unknown): CoreStreamEvent[] {
    if (typeof index !== 'number' || !isRecord(delta)) return [];
    const block = this.blocks.get(index);
    if (!block) return [];
    switch (delta.type) {
      case 'text_delta':
        return block.kind === 'text' && typeof delta.text === 'string' && delta.text.length > 0 ? [{ type: 'block-delta', id: block.id, text: delta.text }] : [];
      case 'thinking_delta':
        return block.kind === 'thinking' && typeof delta.thinking === 'string' && delta.thinking.length > 0 ? [{ type: 'block-delta', id: block.id, text: delta.thinking }] : [];
      case 'signature_delta':
        if (block.kind === 'thinking' && typeof delta.signature === 'string') block.signature += delta.signature;
        return [];
      case 'citations_delta':
        if (block.kind === 'text' && delta.citation !== undefined) block.citations.push(delta.citation);
        return [];
      case 'input_json_delta':
        // The first fragment is often ''; only non-empty fragments are worth an event.
        if ((block.kind !== 'tool' && block.kind !== 'native') || typeof delta.partial_json !== 'string' || delta.partial_json.length === 0) return [];
        if (block.kind === 'tool') block.sentInput = true;
        return [{ type: 'block-delta', id: block.id, inputDelta: delta.partial_json }];
      default:
        // newer delta types
        return [];
    }
  }

  private close(block: OpenBlock): CoreStreamEvent[] {
    switch (block.kind) {
      case 'thinking':
        return [{ type: 'block-end', id: block.id, providerData: { family: 'anthropic', data: { signature: block.signature } } }];
      case 'text':
        return block.citations.length > 0 ? [{ type: 'block-end', id: block.id, providerData: { family: 'anthropic', data: { citations: block.citations } } }] : [{ type: 'block-end', id: block.id }];
      case 'tool':
        if (block.sentInput) return [{ type: 'block-end', id: block.id }];
        return [
          { type: 'block-delta', id: block.id, inputDelta: toolArguments(block.startInput) },
          { type: 'block-end', id: block.id },
        ];
      default:
        return [{ type: 'block-end', id: block.id }];
    }
  }

  private blockStop(index: unknown): CoreStreamEvent[] {
    if (typeof index !== 'number') return [];
    const block = this.blocks.get(index);
    if (!block) return [];
    this.blocks.delete(index);
    return this.close(block);
  }

  private messageDelta(payload: Record<string, unknown>): CoreStreamEvent[] {
    const events: CoreStreamEvent[] = [];
    const delta = isRecord(payload.delta) ? payload.delta : {};
    if (!this.finished) {
      this.finished = true;
      const stopSequence = typeof delta.stop_sequence === 'string' ? delta.stop_sequence : null;
      events.push({ type: 'finish', finish: mapStopReason(typeof delta.stop_reason === 'string' ? delta.stop_reason : null, stopSequence) });
    }
    if (isRecord(payload.usage)) this.usage = mergeStreamUsage(this.usage, payload.usage as AnthropicUsage);
    this.usageSent = true;
    events.push({ type: 'usage', usage: coreUsageFromAnthropic(this.usage) });
    return events;
  }

  private messageStop(): CoreStreamEvent[] {
    this.stopped = true;
    const events: CoreStreamEvent[] = [];
    for (const block of this.blocks.values()) events.push(...this.close(block));
    this.blocks.clear();
    if (!this.finished) {
      this.finished = true;
      events.push({ type: 'finish', finish: mapStopReason(null) });
    }
    if (!this.usageSent) {
      this.usageSent = true;
      events.push({ type: 'usage', usage: coreUsageFromAnthropic(this.usage) });
    }
    return events;
  }
}
