/**
 * Core stream events → the Responses API's SSE events, each with its `sequence_number`:
 *
 *   response.created → response.in_progress → per output item, numbered from 0 in the order
 *   blocks start: response.output_item.added →
 *     text: response.content_part.added → response.output_text.delta* →
 *           response.output_text.done → response.content_part.done
 *     reasoning: response.reasoning_summary_part.added → response.reasoning_summary_text.delta* →
 *           response.reasoning_summary_text.done → response.reasoning_summary_part.done
 *     function call: response.function_call_arguments.delta* → response.function_call_arguments.done
 *     custom tool call: one response.custom_tool_call_input.delta → .done at the end (its input
 *           is taken out of the one-argument JSON the upstream streamed)
 *   → response.output_item.done → response.completed (or response.incomplete) with usage.
 *
 * One item at a time, as OpenAI streams: a block that starts while another item is open (an
 * OpenAI-compatible upstream streams parallel tool calls that way) is held back, its events
 * numbered and sent once the items before it are done.
 *
 * An error event → response.failed with the error, and the stream ends there. The failed
 * response (`failedResponse`) is what the log keeps, so GET /v1/responses/{id} returns what the
 * stream ended with. Its `error.code` is an OpenAI upstream's own code unchanged (Codex decides
 * from it: `context_length_exceeded` is not retryable, `insufficient_quota` stops); any other
 * code is one of the Responses API's (openai SDK's `ResponseError`): the error's own when it is
 * one, else `rate_limit_exceeded` for a 429 and `server_error` for the rest (Anthropic's
 * `overloaded_error`, Gemini's `internal`); the message says what happened.
 */
import type { CoreBlockStart, CoreError, CoreFinish, CoreRequest, CoreStreamEvent, CoreUsage } from '../../../core/types.js';
import type { FormatStreamEncoder } from '../../pipeline/run.js';
import { openAIErrorBody } from '../openai-chat/errors.js';
import { callStateItem, customInput, encryptedContentOf, messageItem, outputText, reasoningItem, responseObject, responsesUsage, toolCallItem, type NamespacedTools, type ResponseInit } from './encode-response.js';

/** The codes a Responses API `error` object may carry (openai SDK's `ResponseError['code']`). */
const RESPONSE_ERROR_CODES: ReadonlySet<string> = new Set([
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
  'data_residency_mismatch',
  'bio_policy',
  'vector_store_timeout',
  'invalid_image',
  'invalid_image_format',
  'invalid_base64_image',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'image_parse_error',
  'image_content_policy_violation',
  'invalid_image_mode',
  'image_file_too_large',
  'unsupported_image_media_type',
  'empty_image_file',
  'failed_to_download_image',
  'image_file_not_found',
]);

/** A failed response's `error`: `{code, message}`, with an OpenAI upstream's code as it sent it, else a code the Responses API has. */
export function responseError(error: CoreError): { code: string; message: string } {
  const body = openAIErrorBody(error);
  if (error.upstreamOpenAICode && error.code) return { code: error.code, message: body.message };
  const own = body.code ?? body.type;
  const code = RESPONSE_ERROR_CODES.has(own) ? own : error.status === 429 ? 'rate_limit_exceeded' : 'server_error';
  return { code, message: body.message };
}

interface OpenItem {
  index: number;
  itemId: string;
  block: CoreBlockStart;
  text: string;
}

export class ResponsesStreamEncoder implements FormatStreamEncoder {
  private sequence = 0;
  /** The block whose item's events go out now; later blocks' events wait in `held`, in start order. */
  private active: string | null = null;
  private readonly held = new Map<string, { events: Array<() => string>; ended: boolean }>();
  private started = false;
  private failed = false;
  private failure: Record<string, unknown> | null = null;
  private usage: CoreUsage | null = null;
  private finishValue: CoreFinish | null = null;
  private readonly open = new Map<string, OpenItem>();
  private readonly output: Array<Record<string, unknown> | undefined> = [];
  private readonly response: ResponseInit;

  constructor(
    init: { requestId: string; model: string; core: CoreRequest },
    response: ResponseInit,
    private readonly customTools: ReadonlySet<string>,
    private readonly namespaced: NamespacedTools = new Map(),
  ) {
    this.response = { ...response, model: init.model };
  }

  /**
   * A pass-through stream: the upstream's own events reached the client (`seen` of them, the
   * first naming the response `id`), so an error frame of this encoder continues that stream:
   * the same response id, the next sequence number, no second response.created.
   */
  continueUpstream(id: string | null, seen: number): void {
    this.started = true;
    this.sequence = seen;
    if (id) this.response.id = id;
  }

  private frame(type: string, payload: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...payload })}\n\n`;
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    const response = responseObject(this.response, 'in_progress', [], null);
    return this.frame('response.created', { response }) + this.frame('response.in_progress', { response });
  }

  encode(event: CoreStreamEvent): string {
    if (this.failed) return '';
    switch (event.type) {
      case 'response-start':
        if (event.model) this.response.model = event.model;
        return this.ensureStarted();
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'block-start': {
        const started = this.ensureStarted();
        if (this.open.has(event.block.id) || this.held.has(event.block.id) || event.block.kind === 'native') return started;
        if (this.active === null) {
          this.active = event.block.id;
          return started + this.blockStart(event.block);
        }
        this.held.set(event.block.id, { events: [() => this.blockStart(event.block)], ended: false });
        return started;
      }
      case 'block-delta': {
        const held = this.held.get(event.id);
        if (held) held.events.push(() => this.blockDelta(event));
        return held ? '' : this.blockDelta(event);
      }
      case 'block-end': {
        const held = this.held.get(event.id);
        if (held) {
          held.events.push(() => this.blockEnd(event.id, event.providerData));
          held.ended = true;
          return '';
        }
        const out = this.blockEnd(event.id, event.providerData);
        return event.id === this.active ? out + this.release() : out;
      }
      case 'finish':
        this.finishValue = event.finish;
        return this.ensureStarted();
      case 'error': {
        this.failed = true;
        const response = responseObject(this.response, 'failed', this.items(), responsesUsage(this.usage), { error: responseError(event.error) });
        this.failure = response;
        return this.ensureStarted() + this.frame('response.failed', { response });
      }
    }
  }

  /** The response the stream's response.failed carried, once it failed; else null. */
  failedResponse(): Record<string, unknown> | null {
    return this.failure;
  }

  /** The active item is done: the held ones go out in turn, up to one still open (the new active one). */
  private release(): string {
    this.active = null;
    let out = '';
    for (const [id, held] of this.held) {
      this.held.delete(id);
      for (const event of held.events) out += event();
      if (!held.ended) {
        this.active = id;
        break;
      }
    }
    return out;
  }

  private items(): Array<Record<string, unknown>> {
    return this.output.filter((item): item is Record<string, unknown> => item !== undefined);
  }

  private blockStart(block: CoreBlockStart): string {
    if (this.open.has(block.id) || block.kind === 'native') return '';
    let state = '';
    if (block.kind === 'tool-call') {
      const stateIndex = this.output.length;
      const item = callStateItem(block.callId, block.providerData, `rs_${this.response.id.slice(5)}_${stateIndex}`);
      if (item) {
        this.output.push(item);
        state = this.frame('response.output_item.added', { output_index: stateIndex, item }) + this.frame('response.output_item.done', { output_index: stateIndex, item });
      }
    }
    const index = this.output.length;
    this.output.push(undefined);
    // The ids' prefixes are OpenAI's (it refuses a replayed item whose id has another type's).
    const prefix = block.kind === 'tool-call' ? (this.customTools.has(block.name) ? 'ctc' : 'fc') : block.kind === 'reasoning' ? 'rs' : 'msg';
    const itemId = `${prefix}_${this.response.id.slice(5)}_${index}`;
    const open: OpenItem = { index, itemId, block, text: '' };
    this.open.set(block.id, open);
    const where = { item_id: itemId, output_index: index };
    switch (block.kind) {
      case 'text':
      case 'refusal':
        return (
          this.frame('response.output_item.added', { output_index: index, item: messageItem(itemId, [], 'in_progress') }) +
          this.frame('response.content_part.added', { ...where, content_index: 0, part: block.kind === 'text' ? outputText('') : { type: 'refusal', refusal: '' } })
        );
      case 'reasoning':
        return (
          this.frame('response.output_item.added', { output_index: index, item: reasoningItem('', itemId) }) +
          (block.redacted ? '' : this.frame('response.reasoning_summary_part.added', { ...where, summary_index: 0, part: { type: 'summary_text', text: '' } }))
        );
      case 'tool-call': {
        const item = toolCallItem({ type: 'tool-call', id: block.callId, name: block.name, input: '', kind: 'function' }, this.customTools, itemId, this.namespaced);
        return state + this.frame('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress' } });
      }
    }
  }

  private blockDelta(event: Extract<CoreStreamEvent, { type: 'block-delta' }>): string {
    const open = this.open.get(event.id);
    if (!open) return '';
    const where = { item_id: open.itemId, output_index: open.index };
    switch (open.block.kind) {
      case 'text':
        if (!event.text) return '';
        open.text += event.text;
        return this.frame('response.output_text.delta', { ...where, content_index: 0, delta: event.text, logprobs: [] });
      case 'refusal':
        if (!event.text) return '';
        open.text += event.text;
        return this.frame('response.refusal.delta', { ...where, content_index: 0, delta: event.text });
      case 'reasoning':
        if (!event.text || open.block.redacted) return '';
        open.text += event.text;
        return this.frame('response.reasoning_summary_text.delta', { ...where, summary_index: 0, delta: event.text });
      case 'tool-call': {
        if (!event.inputDelta) return '';
        open.text += event.inputDelta;
        if (this.customTools.has(open.block.name)) return '';
        return this.frame('response.function_call_arguments.delta', { ...where, delta: event.inputDelta });
      }
      default:
        return '';
    }
  }

  private blockEnd(id: string, providerData: Extract<CoreStreamEvent, { type: 'block-end' }>['providerData']): string {
    const open = this.open.get(id);
    if (!open) return '';
    this.open.delete(id);
    const block = open.block;
    const where = { item_id: open.itemId, output_index: open.index };
    let out = '';
    let item: Record<string, unknown>;
    switch (block.kind) {
      case 'text':
      case 'refusal': {
        const part = block.kind === 'text' ? outputText(open.text) : { type: 'refusal', refusal: open.text };
        out += block.kind === 'text' ? this.frame('response.output_text.done', { ...where, content_index: 0, text: open.text, logprobs: [] }) : this.frame('response.refusal.done', { ...where, content_index: 0, refusal: open.text });
        out += this.frame('response.content_part.done', { ...where, content_index: 0, part });
        item = messageItem(open.itemId, [part]);
        break;
      }
      case 'reasoning': {
        const state = providerData ?? block.providerData;
        const encrypted = encryptedContentOf(state);
        if (!block.redacted) {
          out += this.frame('response.reasoning_summary_text.done', { ...where, summary_index: 0, text: open.text });
          out += this.frame('response.reasoning_summary_part.done', { ...where, summary_index: 0, part: { type: 'summary_text', text: open.text } });
        }
        item = reasoningItem(block.redacted ? '' : open.text, open.itemId, encrypted);
        break;
      }
      case 'tool-call': {
        item = toolCallItem({ type: 'tool-call', id: block.callId, name: block.name, input: open.text, kind: 'function' }, this.customTools, open.itemId, this.namespaced);
        if (item.type === 'custom_tool_call') {
          const input = customInput(open.text);
          out += this.frame('response.custom_tool_call_input.delta', { ...where, delta: input });
          out += this.frame('response.custom_tool_call_input.done', { ...where, input });
        } else out += this.frame('response.function_call_arguments.done', { ...where, name: item.name, arguments: open.text });
        break;
      }
      default:
        return '';
    }
    this.output[open.index] = item;
    return out + this.frame('response.output_item.done', { output_index: open.index, item });
  }

  finish(): string {
    if (this.failed) return '';
    let out = this.ensureStarted();
    // Blocks the upstream never ended are ended here, the held ones after the active one.
    while (this.active !== null) out += this.blockEnd(this.active, undefined) + this.release();
    for (const open of [...this.open.values()].sort((a, b) => a.index - b.index)) out += this.blockEnd(open.block.id, undefined);
    const incomplete = this.finishValue?.unified === 'length';
    const response = responseObject(this.response, incomplete ? 'incomplete' : 'completed', this.items(), responsesUsage(this.usage));
    return out + this.frame(incomplete ? 'response.incomplete' : 'response.completed', { response });
  }
}
