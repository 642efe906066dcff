/**
 * Core stream events → OpenAI `chat.completion.chunk` SSE frames, byte for byte what the
 * gateway has always sent. The frame prefix is built once per stream and each delta is
 * spliced in with one `JSON.stringify` of its text, so encoding costs little more than the copy.
 *
 * Blocks map to deltas: text → `content`, refusal → `refusal`, reasoning → `reasoning_content`
 * (and, at the end of a block signed by Anthropic, one `thinking_blocks` delta with the block's
 * whole text and signature; a redacted block is one `thinking_blocks` delta), tool calls →
 * `tool_calls` with an index counted per choice (Gemini signatures as `extra_content`).
 */
import type { CoreBlockStart, CoreStreamEvent, CoreUsage } from '../../../core/types.js';
import { openAIFinishReason, openAIUsage, providerDataToExtraContent } from './conventions.js';
import { openAIErrorBody } from './errors.js';

export interface ChatStreamEncoderOptions {
  id: string;
  created: number;
  model: string;
  /** The client asked for `stream_options.include_usage`. */
  includeUsage: boolean;
}

interface BlockState {
  block: CoreBlockStart;
  choice: number;
  /** Tool calls: the OpenAI index. */
  toolIndex: number;
  /** Reasoning: the block's text so far (its thinking_blocks entry needs it). */
  text: string;
}

export class OpenAIChatStreamEncoder {
  private prefix: string;
  private readonly usageField: string;
  /** The text after a delta when there is no finish reason (`…"finish_reason":null}]…\n\n`), the same for every such frame. */
  private readonly openTail: string;
  /** Choice 0's text frame up to its JSON string (`data: {…"choices":[{"index":0,"delta":{"content":`), made once per prefix. */
  private textHead: string;
  private readonly roleSent = new Set<number>();
  private readonly blocks = new Map<string, BlockState>();
  /** Tool calls so far per choice (made at the first tool call). */
  private toolCounts: Map<number, number> | null = null;
  private usage: CoreUsage | null = null;
  private readonly options: ChatStreamEncoderOptions;

  constructor(options: ChatStreamEncoderOptions) {
    this.options = { ...options };
    this.usageField = options.includeUsage ? ',"usage":null' : '';
    this.openTail = `,"logprobs":null,"finish_reason":null}]${this.usageField}}\n\n`;
    this.prefix = this.buildPrefix();
    this.textHead = `${this.prefix}{"index":0,"delta":{"content":`;
  }

  private buildPrefix(): string {
    return `data: {"id":${JSON.stringify(this.options.id)},"object":"chat.completion.chunk","created":${this.options.created},"model":${JSON.stringify(this.options.model)},"choices":[`;
  }

  private frame(choice: number, delta: string, finishReason: string | null): string {
    if (finishReason === null) return `${this.prefix}{"index":${choice},"delta":${delta}${this.openTail}`;
    return `${this.prefix}{"index":${choice},"delta":${delta},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]${this.usageField}}\n\n`;
  }

  /** The role must open every choice's stream, as OpenAI's first chunk does. */
  private roleFrame(choice: number): string {
    if (this.roleSent.has(choice)) return '';
    this.roleSent.add(choice);
    return this.frame(choice, '{"role":"assistant","content":"","refusal":null}', null);
  }

  /** Returns the SSE text for one event ('' when the event produces no frame). */
  encode(event: CoreStreamEvent): string {
    switch (event.type) {
      case 'response-start':
        if (event.id) this.options.id = event.id;
        if (event.model) this.options.model = event.model;
        if (event.created) this.options.created = event.created;
        this.prefix = this.buildPrefix();
        this.textHead = `${this.prefix}{"index":0,"delta":{"content":`;
        return this.roleFrame(0);
      case 'block-start': {
        const choice = event.choice ?? 0;
        const block = event.block;
        let toolIndex = -1;
        if (block.kind === 'tool-call') {
          const toolCounts = (this.toolCounts ??= new Map());
          toolIndex = toolCounts.get(choice) ?? 0;
          toolCounts.set(choice, toolIndex + 1);
        }
        this.blocks.set(block.id, { block, choice, toolIndex, text: '' });
        if (block.kind !== 'tool-call') return '';
        const extra = providerDataToExtraContent(block.providerData);
        return (
          this.roleFrame(choice) +
          this.frame(
            choice,
            `{"tool_calls":[{"index":${toolIndex},"id":${JSON.stringify(block.callId)},"type":"function","function":{"name":${JSON.stringify(block.name)},"arguments":""}${
              extra ? `,"extra_content":${JSON.stringify(extra)}` : ''
            }}]}`,
            null,
          )
        );
      }
      case 'block-delta': {
        const state = this.blocks.get(event.id);
        if (!state) return '';
        const choice = state.choice;
        switch (state.block.kind) {
          case 'text':
            // Most frames of a stream: choice 0's text, from the parts made once (three pieces, not a dozen).
            if (choice === 0 && this.roleSent.has(0)) return this.textHead + JSON.stringify(event.text ?? '') + '}' + this.openTail;
            return this.roleFrame(choice) + this.frame(choice, `{"content":${JSON.stringify(event.text ?? '')}}`, null);
          case 'refusal':
            return this.roleFrame(choice) + this.frame(choice, `{"refusal":${JSON.stringify(event.text ?? '')}}`, null);
          case 'reasoning': {
            const out = this.roleFrame(choice);
            const text = event.text ?? '';
            if (text.length === 0) return out;
            state.text += text;
            return out + this.frame(choice, `{"reasoning_content":${JSON.stringify(text)}}`, null);
          }
          case 'tool-call':
            return this.roleFrame(choice) + this.frame(choice, `{"tool_calls":[{"index":${state.toolIndex},"function":{"arguments":${JSON.stringify(event.inputDelta ?? '')}}}]}`, null);
          default:
            return '';
        }
      }
      case 'block-end': {
        const state = this.blocks.get(event.id);
        if (!state) return '';
        this.blocks.delete(event.id);
        if (state.block.kind !== 'reasoning') return '';
        const data = event.providerData ?? state.block.providerData;
        if (!data || data.family !== 'anthropic') return '';
        const choice = state.choice;
        if (state.block.redacted) {
          return this.roleFrame(choice) + this.frame(choice, `{"thinking_blocks":[${JSON.stringify({ type: 'redacted_thinking', ...data.data })}]}`, null);
        }
        if (typeof data.data.signature !== 'string') return '';
        const block = { type: 'thinking', thinking: state.text, signature: data.data.signature };
        return this.roleFrame(choice) + this.frame(choice, `{"thinking_blocks":[${JSON.stringify(block)}]}`, null);
      }
      case 'finish': {
        const choice = event.choice ?? 0;
        return this.roleFrame(choice) + this.frame(choice, '{}', openAIFinishReason(event.finish));
      }
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'error':
        return `data: ${JSON.stringify({ error: openAIErrorBody(event.error) })}\n\n`;
    }
  }

  /** The closing frames: the usage chunk if the client asked for it, then `[DONE]`. */
  finish(): string {
    let text = '';
    if (this.options.includeUsage && this.usage) {
      const native = this.usage.native?.family === 'openai' ? this.usage.native.data : null;
      text += `data: {"id":${JSON.stringify(this.options.id)},"object":"chat.completion.chunk","created":${this.options.created},"model":${JSON.stringify(this.options.model)},"choices":[],"usage":${JSON.stringify(native ?? openAIUsage(this.usage))}}\n\n`;
    }
    return text + 'data: [DONE]\n\n';
  }
}
