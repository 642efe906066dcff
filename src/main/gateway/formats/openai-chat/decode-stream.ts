/**
 * OpenAI `chat.completion.chunk` payloads → core stream events (with block ids, starts and
 * ends from CoreStreamBuilder). Reads the gateway's own conventions too (`reasoning_content` /
 * `reasoning`, `thinking_blocks` deltas, `extra_content` on tool calls), so it can read back
 * what stream-encoder.ts writes.
 */
import { CoreStreamBuilder } from '../../../core/stream-builder.js';
import type { CoreStreamEvent } from '../../../core/types.js';
import { extraContentToProviderData, finishFromOpenAI, thinkingBlockToReasoning, usageFromOpenAI } from './conventions.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class ChatChunkDecoder {
  private readonly builder = new CoreStreamBuilder();
  private started = false;
  private sawDone = false;
  private finished = false;

  get done(): boolean {
    return this.sawDone;
  }

  /** One SSE `data` payload (a JSON chunk or `[DONE]`). */
  push(data: string): CoreStreamEvent[] {
    if (data === '[DONE]') {
      this.sawDone = true;
      return this.builder.closeAll();
    }
    const chunk = JSON.parse(data) as Record<string, unknown>;
    const out: CoreStreamEvent[] = [];
    if (isRecord(chunk.error)) {
      const error = chunk.error;
      out.push({
        type: 'error',
        error: { kind: 'upstream', status: 502, message: String(error.message ?? 'upstream stream error'), type: typeof error.type === 'string' ? error.type : null, code: typeof error.code === 'string' ? error.code : null, param: typeof error.param === 'string' ? error.param : null },
      });
      return out;
    }
    if (!this.started) {
      this.started = true;
      out.push({ type: 'response-start', id: typeof chunk.id === 'string' ? chunk.id : null, model: typeof chunk.model === 'string' ? chunk.model : '', ...(typeof chunk.created === 'number' ? { created: chunk.created } : {}) });
    }
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isRecord(choice)) continue;
      const index = typeof choice.index === 'number' ? choice.index : 0;
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : '';
      if (reasoning) this.builder.reasoning(index, reasoning, out);
      if (Array.isArray(delta.thinking_blocks)) {
        for (const block of delta.thinking_blocks) {
          const decoded = isRecord(block) ? thinkingBlockToReasoning(block) : null;
          if (!decoded) continue;
          if (decoded.redacted) this.builder.redactedReasoning(index, decoded.providerData, out);
          else this.builder.endReasoning(index, decoded.providerData, out);
        }
      }
      if (typeof delta.content === 'string' && delta.content.length > 0) this.builder.text(index, delta.content, out);
      if (typeof delta.refusal === 'string' && delta.refusal.length > 0) this.builder.refusal(index, delta.refusal, out);
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) {
          if (!isRecord(call)) continue;
          const toolIndex = typeof call.index === 'number' ? call.index : 0;
          const fn = isRecord(call.function) ? call.function : {};
          if (typeof call.id === 'string') this.builder.toolStart(index, toolIndex, call.id, typeof fn.name === 'string' ? fn.name : '', extraContentToProviderData(call.extra_content), out);
          if (typeof fn.arguments === 'string' && fn.arguments.length > 0) this.builder.toolDelta(index, toolIndex, fn.arguments, out);
        }
      }
      const finish = finishFromOpenAI(typeof choice.finish_reason === 'string' ? choice.finish_reason : null);
      if (finish) {
        this.finished = true;
        this.builder.finish(index, finish, out);
      }
    }
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) out.push({ type: 'usage', usage });
    return out;
  }

  /** The stream ended: closes what is open. */
  end(): CoreStreamEvent[] {
    return this.builder.closeAll();
  }

  get sawFinish(): boolean {
    return this.finished;
  }
}
