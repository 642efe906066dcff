/**
 * Canonical stream events → OpenAI `chat.completion.chunk` SSE frames. The frame prefix is
 * built once per stream and each delta is spliced in with one `JSON.stringify` of its
 * text, so encoding costs little more than the copy.
 */
import { openAIFinishReason, type StreamEvent, type Usage } from '../types.js';
import { toOpenAIUsage } from '../providers/openai-compatible/usage.js';

export interface ChunkEncoderOptions {
  id: string;
  created: number;
  model: string;
  /** The client asked for `stream_options.include_usage`. */
  includeUsage: boolean;
}

export class OpenAIChunkEncoder {
  private prefix: string;
  private readonly usageField: string;
  private roleSent = new Set<number>();
  private usage: Usage | null = null;
  private openAIUsage: Record<string, unknown> | null = null;
  /** Text of the thinking block in progress, needed when its signature arrives. */
  private thinkingText = '';
  private readonly includeUsage: boolean;

  constructor(private readonly options: ChunkEncoderOptions) {
    this.includeUsage = options.includeUsage;
    this.usageField = options.includeUsage ? ',"usage":null' : '';
    this.prefix = this.buildPrefix(options.id, options.model, options.created);
  }

  private buildPrefix(id: string, model: string, created: number): string {
    return `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[`;
  }

  private frame(choice: number, delta: string, finishReason: string | null): string {
    const finish = finishReason === null ? 'null' : JSON.stringify(finishReason);
    return `${this.prefix}{"index":${choice},"delta":${delta},"logprobs":null,"finish_reason":${finish}}]${this.usageField}}\n\n`;
  }

  /** The role must open every choice's stream, as OpenAI's first chunk does. */
  private roleFrame(choice: number): string {
    if (this.roleSent.has(choice)) return '';
    this.roleSent.add(choice);
    return this.frame(choice, '{"role":"assistant","content":"","refusal":null}', null);
  }

  /** Returns the SSE text for one event ('' when the event produces no frame). */
  encode(event: StreamEvent): string {
    switch (event.type) {
      case 'start':
        if (event.id) this.options.id = event.id;
        if (event.model) this.options.model = event.model;
        if (event.created) this.options.created = event.created;
        this.prefix = this.buildPrefix(this.options.id, this.options.model, this.options.created);
        return this.roleFrame(0);
      case 'text-delta': {
        const choice = event.choice ?? 0;
        return this.roleFrame(choice) + this.frame(choice, `{"content":${JSON.stringify(event.text)}}`, null);
      }
      case 'reasoning-delta': {
        const choice = event.choice ?? 0;
        let out = this.roleFrame(choice);
        if (event.text.length > 0) {
          this.thinkingText += event.text;
          out += this.frame(choice, `{"reasoning_content":${JSON.stringify(event.text)}}`, null);
        }
        if (event.signature !== undefined) {
          const block = { type: 'thinking', thinking: this.thinkingText, signature: event.signature };
          this.thinkingText = '';
          out += this.frame(choice, `{"thinking_blocks":[${JSON.stringify(block)}]}`, null);
        }
        if (event.redactedData !== undefined) {
          out += this.frame(choice, `{"thinking_blocks":[${JSON.stringify({ type: 'redacted_thinking', data: event.redactedData })}]}`, null);
        }
        return out;
      }
      case 'refusal-delta': {
        const choice = event.choice ?? 0;
        return this.roleFrame(choice) + this.frame(choice, `{"refusal":${JSON.stringify(event.text)}}`, null);
      }
      case 'tool-call-start': {
        const choice = event.choice ?? 0;
        return (
          this.roleFrame(choice) +
          this.frame(
            choice,
            `{"tool_calls":[{"index":${event.index},"id":${JSON.stringify(event.id)},"type":"function","function":{"name":${JSON.stringify(event.name)},"arguments":""}${
              event.extraContent ? `,"extra_content":${JSON.stringify(event.extraContent)}` : ''
            }}]}`,
            null,
          )
        );
      }
      case 'tool-call-delta': {
        const choice = event.choice ?? 0;
        return this.roleFrame(choice) + this.frame(choice, `{"tool_calls":[{"index":${event.index},"function":{"arguments":${JSON.stringify(event.argumentsDelta)}}}]}`, null);
      }
      case 'finish': {
        const choice = event.choice ?? 0;
        const reason = openAIFinishReason(event.reason.unified);
        return this.roleFrame(choice) + this.frame(choice, '{}', reason);
      }
      case 'usage':
        this.usage = event.usage;
        this.openAIUsage = event.openAIUsage ?? null;
        return '';
      case 'error':
        return `data: ${JSON.stringify({ error: event.error.body })}\n\n`;
    }
  }

  /** The closing frames: the usage chunk if the client asked for it, then `[DONE]`. */
  finish(): string {
    let text = '';
    if (this.includeUsage && this.usage) {
      text += `data: {"id":${JSON.stringify(this.options.id)},"object":"chat.completion.chunk","created":${this.options.created},"model":${JSON.stringify(this.options.model)},"choices":[],"usage":${JSON.stringify(this.openAIUsage ?? toOpenAIUsage(this.usage))}}\n\n`;
    }
    return text + 'data: [DONE]\n\n';
  }
}
