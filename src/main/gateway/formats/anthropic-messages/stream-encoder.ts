/**
 * Core stream events → Anthropic's SSE event sequence, which Claude Code and the SDK check:
 *
 *   message_start (usage with the input side) → ping → per block, numbered from 0 in the order
 *   blocks start: content_block_start (the empty block) → content_block_delta* →
 *   content_block_stop → message_delta (stop_reason, stop_sequence, usage) → message_stop
 *
 * - message_start waits for the first usage event that follows response-start (Anthropic
 *   upstreams report the input side up front) or the first block, whichever comes first. An
 *   upstream that reports usage only at the end (OpenAI's last chunk) gets an estimate of the
 *   input here (about 4 characters a token) and the real numbers in message_delta, which carries
 *   the whole usage (input, cache reads and writes, output) as newer Anthropic servers do.
 * - text → text_delta; reasoning → thinking_delta, and at its end one signature_delta (the
 *   Anthropic signature byte for byte, or another family's state, see conventions.ts) before
 *   content_block_stop; a redacted block starts whole; tool calls → tool_use with
 *   input_json_delta; Anthropic-native blocks (server tools) start with their value and take
 *   input_json_delta; citations given at a text block's end → citations_delta, one each.
 * - Every delta belongs to a started block; a delta or end for an unknown id is dropped, and any
 *   block still open is stopped before message_delta, so a client never sees a block it
 *   cannot find.
 * - An error event → `event: error` with Anthropic's error object, and the stream ends there.
 */
import type { CoreBlockStart, CoreFinish, CoreRequest, CoreStreamEvent, CoreUsage } from '../../../core/types.js';
import type { FormatStreamEncoder } from '../../pipeline/run.js';
import { anthropicStopReason, anthropicUsage, carrierSignature, needsCarrier, signatureFor, toolCallCarrierSignature } from './conventions.js';
import { messageId } from './encode-response.js';
import { anthropicErrorBody } from './errors.js';

function frame(type: string, payload: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** A rough count of the request's input tokens (≈4 characters a token) for message_start when the upstream tells only at the end. */
export function estimateInputTokens(core: CoreRequest): number {
  let characters = 0;
  for (const part of core.system) characters += part.text.length;
  for (const message of core.messages) {
    for (const part of message.content) {
      if (part.type === 'text' || part.type === 'reasoning' || part.type === 'refusal') characters += part.text.length;
      else if (part.type === 'tool-call') characters += part.input.length + part.name.length;
      else if (part.type === 'tool-result') characters += typeof part.content === 'string' ? part.content.length : JSON.stringify(part.content).length;
    }
  }
  for (const tool of core.tools) characters += JSON.stringify(tool).length;
  return Math.ceil(characters / 4);
}

interface OpenBlock {
  index: number;
  block: CoreBlockStart;
}

export class AnthropicStreamEncoder implements FormatStreamEncoder {
  private started = false;
  private awaitingUsage = false;
  private id: string;
  private model: string;
  private usage: CoreUsage | null = null;
  private finishValue: CoreFinish | null = null;
  private nextIndex = 0;
  private readonly open = new Map<string, OpenBlock>();
  private failed = false;

  constructor(private readonly init: { requestId: string; model: string; core: CoreRequest }) {
    this.id = messageId(null, init.requestId);
    this.model = init.model;
  }

  private messageStart(): string {
    this.started = true;
    this.awaitingUsage = false;
    const usage = anthropicUsage(this.usage, this.usage ? 0 : estimateInputTokens(this.init.core));
    // The output side is not known yet: Anthropic reports a token or so here.
    if (this.usage?.native?.family !== 'anthropic') usage.output_tokens = Math.min(usage.output_tokens, 1);
    const message = { id: this.id, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage };
    return frame('message_start', { type: 'message_start', message }) + frame('ping', { type: 'ping' });
  }

  /** message_start, if it has not gone out yet. */
  private ensureStarted(): string {
    return this.started ? '' : this.messageStart();
  }

  encode(event: CoreStreamEvent): string {
    if (this.failed) return '';
    switch (event.type) {
      case 'response-start':
        if (event.id) this.id = messageId(event.id, this.init.requestId);
        if (event.model) this.model = event.model;
        this.awaitingUsage = true;
        return '';
      case 'usage':
        this.usage = event.usage;
        return this.awaitingUsage && !this.started ? this.messageStart() : '';
      case 'block-start':
        return this.ensureStarted() + this.blockStart(event.block);
      case 'block-delta':
        return this.blockDelta(event);
      case 'block-end':
        return this.blockEnd(event.id, event.providerData);
      case 'finish':
        this.finishValue = event.finish;
        return this.ensureStarted();
      case 'error': {
        this.failed = true;
        return frame('error', anthropicErrorBody(event.error).body);
      }
    }
  }

  private blockStart(block: CoreBlockStart): string {
    if (this.open.has(block.id)) return '';
    let carrier = '';
    if (block.kind === 'tool-call' && needsCarrier(block.providerData)) {
      // Another family's state of this call rides in a thinking block just before it (conventions.ts).
      const index = this.nextIndex++;
      carrier =
        frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
        frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: toolCallCarrierSignature(block.providerData) } }) +
        frame('content_block_stop', { type: 'content_block_stop', index });
    }
    const index = this.nextIndex++;
    this.open.set(block.id, { index, block });
    let content: Record<string, unknown>;
    switch (block.kind) {
      case 'text':
      case 'refusal':
        content = { type: 'text', text: '' };
        break;
      case 'reasoning':
        content = block.redacted && block.providerData?.family === 'anthropic' ? { type: 'redacted_thinking', data: block.providerData.data.data } : { type: 'thinking', thinking: '', signature: '' };
        break;
      case 'tool-call':
        content = { type: 'tool_use', id: block.callId, name: block.name, input: {} };
        break;
      case 'native':
        content = block.family === 'anthropic' && typeof block.value === 'object' && block.value !== null ? (block.value as Record<string, unknown>) : { type: 'text', text: '' };
        break;
    }
    return carrier + frame('content_block_start', { type: 'content_block_start', index, content_block: content });
  }

  private blockDelta(event: Extract<CoreStreamEvent, { type: 'block-delta' }>): string {
    const open = this.open.get(event.id);
    if (!open) return '';
    const delta = (value: Record<string, unknown>): string => frame('content_block_delta', { type: 'content_block_delta', index: open.index, delta: value });
    switch (open.block.kind) {
      case 'text':
      case 'refusal':
        return event.text ? delta({ type: 'text_delta', text: event.text }) : '';
      case 'reasoning':
        return event.text && !open.block.redacted ? delta({ type: 'thinking_delta', thinking: event.text }) : '';
      case 'tool-call':
      case 'native':
        return event.inputDelta ? delta({ type: 'input_json_delta', partial_json: event.inputDelta }) : event.text ? delta({ type: 'text_delta', text: event.text }) : '';
    }
  }

  private blockEnd(id: string, providerData: Extract<CoreStreamEvent, { type: 'block-end' }>['providerData']): string {
    const open = this.open.get(id);
    if (!open) return '';
    this.open.delete(id);
    let out = '';
    const delta = (value: Record<string, unknown>): string => frame('content_block_delta', { type: 'content_block_delta', index: open.index, delta: value });
    const block = open.block;
    if (block.kind === 'reasoning' && !block.redacted) {
      const signature = signatureFor(providerData ?? block.providerData);
      if (signature.length > 0) out += delta({ type: 'signature_delta', signature });
    }
    if (block.kind === 'text' && providerData?.family === 'anthropic' && Array.isArray(providerData.data.citations)) {
      for (const citation of providerData.data.citations) out += delta({ type: 'citations_delta', citation });
    }
    out += frame('content_block_stop', { type: 'content_block_stop', index: open.index });
    const state = providerData;
    if (block.kind === 'text' && needsCarrier(state)) {
      // Another family's state of this text (a Gemini signature) rides in a thinking block just after it.
      const index = this.nextIndex++;
      out +=
        frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
        frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: carrierSignature(state, 'text') } }) +
        frame('content_block_stop', { type: 'content_block_stop', index });
    }
    return out;
  }

  finish(): string {
    if (this.failed) return '';
    let out = this.ensureStarted();
    for (const open of [...this.open.values()].sort((a, b) => a.index - b.index)) out += this.blockEnd(open.block.id, undefined);
    const usage = anthropicUsage(this.usage, this.usage?.inputTokens == null ? estimateInputTokens(this.init.core) : 0);
    out += frame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: anthropicStopReason(this.finishValue), stop_sequence: this.finishValue?.stopSequence ?? null },
      usage,
    });
    return out + frame('message_stop', { type: 'message_stop' });
  }
}
