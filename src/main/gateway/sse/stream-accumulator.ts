/**
 * Assembles canonical stream events into the chat completion they add up to, for the log
 * and the inspector: the text, reasoning, tool calls, finish reason and usage.
 */
import type { ChatCompletionResponse, ToolCall } from '../openai-types.js';
import { openAIFinishReason, type StreamEvent, type Usage } from '../types.js';
import { toOpenAIUsage } from '../providers/openai-compatible/usage.js';

export class StreamAccumulator {
  id = '';
  model = '';
  created = 0;
  text = '';
  reasoning = '';
  thinkingBlocks: Array<Record<string, unknown>> = [];
  private blockText = '';
  refusal = '';
  toolCalls: ToolCall[] = [];
  finishReason: string | null = null;
  usage: Usage | null = null;
  /** Time (epoch ms) the first content event arrived. */
  firstContentAt: number | null = null;
  error: { status: number; message: string; type: string } | null = null;

  add(event: StreamEvent): void {
    switch (event.type) {
      case 'start':
        this.id = event.id;
        this.model = event.model;
        this.created = event.created ?? this.created;
        return;
      case 'text-delta':
        this.markFirst();
        if ((event.choice ?? 0) === 0) this.text += event.text;
        return;
      case 'reasoning-delta':
        this.markFirst();
        if ((event.choice ?? 0) !== 0) return;
        this.reasoning += event.text;
        this.blockText += event.text;
        if (event.signature !== undefined) {
          this.thinkingBlocks.push({ type: 'thinking', thinking: this.blockText, signature: event.signature });
          this.blockText = '';
        }
        if (event.redactedData !== undefined) this.thinkingBlocks.push({ type: 'redacted_thinking', data: event.redactedData });
        return;
      case 'refusal-delta':
        this.markFirst();
        if ((event.choice ?? 0) === 0) this.refusal += event.text;
        return;
      case 'tool-call-start':
        this.markFirst();
        if ((event.choice ?? 0) === 0) {
          const call: ToolCall & { extra_content?: Record<string, unknown> } = { id: event.id, type: 'function', function: { name: event.name, arguments: '' } };
          if (event.extraContent) call.extra_content = event.extraContent;
          this.toolCalls[event.index] = call;
        }
        return;
      case 'tool-call-delta': {
        const call = (event.choice ?? 0) === 0 ? this.toolCalls[event.index] : undefined;
        if (call) call.function.arguments += event.argumentsDelta;
        return;
      }
      case 'finish':
        // What the client saw, as non-streamed responses record it.
        if ((event.choice ?? 0) === 0) this.finishReason = openAIFinishReason(event.reason.unified);
        return;
      case 'usage':
        this.usage = event.usage;
        return;
      case 'error':
        this.error = { status: event.error.status, message: event.error.body.message, type: event.error.body.type };
        return;
    }
  }

  private markFirst(): void {
    if (this.firstContentAt === null) this.firstContentAt = Date.now();
  }

  toCompletion(): ChatCompletionResponse {
    const message: ChatCompletionResponse['choices'][number]['message'] = {
      role: 'assistant',
      content: this.text.length > 0 ? this.text : null,
      refusal: this.refusal.length > 0 ? this.refusal : null,
    };
    if (this.reasoning.length > 0) message.reasoning_content = this.reasoning;
    if (this.thinkingBlocks.length > 0) message.thinking_blocks = this.thinkingBlocks;
    const calls = this.toolCalls.filter(Boolean);
    if (calls.length > 0) message.tool_calls = calls;
    const completion: ChatCompletionResponse = {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, message, finish_reason: this.finishReason }],
    };
    if (this.usage) completion.usage = toOpenAIUsage(this.usage);
    return completion;
  }
}
