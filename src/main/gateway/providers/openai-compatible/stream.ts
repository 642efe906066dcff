/**
 * An OpenAI-compatible SSE stream → canonical stream events. Tolerates the known
 * variations: `reasoning` or `reasoning_content`, chunks without `finish_reason`,
 * tool-call ids repeated on every fragment (LM Studio) or parallel calls all at index 0
 * told apart by id (some Ollama-compatible servers), usage on any chunk, error frames.
 */
import type { SseEvent } from '../../sse/decoder.js';
import type { FinishReason, StreamEvent } from '../../types.js';
import type { ChatCompletionUsage } from '../../openai-types.js';
import type { StreamTranslator, UpstreamTarget } from '../types.js';
import { adjustUsageInPlace, normaliseUsage } from './usage.js';
import { readErrorFields } from './errors.js';

interface ToolSlot {
  id: string;
  outputIndex: number;
}

interface ChunkChoice {
  index?: number;
  delta?: {
    role?: string;
    content?: string | null;
    refusal?: string | null;
    reasoning_content?: string | null;
    reasoning?: string | null;
    tool_calls?: Array<{ index?: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }>;
  };
  finish_reason?: string | null;
}

export function unifyFinishReason(raw: string): FinishReason {
  switch (raw) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return raw;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

export class OpenAICompatibleStreamTranslator implements StreamTranslator {
  private started = false;
  private finished = false;
  private sawDone = false;
  private failed = false;
  /** Per choice: upstream tool index → slot. */
  private readonly tools = new Map<number, Map<number, ToolSlot>>();
  private readonly nextToolIndex = new Map<number, number>();

  constructor(private readonly target: UpstreamTarget) {}

  get done(): boolean {
    return this.sawDone || this.failed;
  }

  push(event: SseEvent): StreamEvent[] {
    const data = event.data;
    if (data === '[DONE]') {
      this.sawDone = true;
      return [];
    }
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return this.fail(502, `${this.target.provider.name} sent a stream chunk that is not valid JSON`, 'bad_upstream_response');
    }
    if (event.event === 'error' || (chunk.error !== undefined && chunk.error !== null)) {
      const fields = readErrorFields(data);
      const message = fields.message ?? 'upstream stream error';
      this.failed = true;
      // Only identifier-like codes are OpenAI codes; xAI puts a sentence ("Internal error") there.
      const code = fields.code && /^[A-Za-z_][\w.-]*$/.test(fields.code) ? fields.code : null;
      return [{ type: 'error', error: { status: 502, body: { message: `${this.target.provider.name}: ${message}`, type: fields.type ?? 'server_error', param: fields.param, code } } }];
    }
    const events: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      events.push({
        type: 'start',
        id: typeof chunk.id === 'string' ? chunk.id : '',
        model: typeof chunk.model === 'string' ? chunk.model : this.target.model,
        created: typeof chunk.created === 'number' ? chunk.created : undefined,
      });
    }
    const choices = chunk.choices as ChunkChoice[] | undefined;
    if (Array.isArray(choices)) {
      for (const choice of choices) this.translateChoice(choice, events);
    }
    const usage = chunk.usage as ChatCompletionUsage | null | undefined;
    if (usage) {
      const normalised = normaliseUsage(usage, this.target.provider.quirks);
      if (normalised) {
        // Passed on as the upstream sent it (audio, prediction and cache details kept), with
        // reasoning counted inside completion_tokens as OpenAI counts it.
        const openAIUsage = structuredClone(usage);
        adjustUsageInPlace(openAIUsage, this.target.provider.quirks);
        events.push({ type: 'usage', usage: normalised, openAIUsage });
      }
    }
    return events;
  }

  end(): StreamEvent[] {
    if (this.failed || this.sawDone || this.finished) return [];
    return this.fail(502, `${this.target.provider.name} closed the stream before it finished`, 'upstream_stream_incomplete');
  }

  private fail(status: number, message: string, code: string): StreamEvent[] {
    this.failed = true;
    return [{ type: 'error', error: { status, body: { message, type: 'upstream_error', param: null, code } } }];
  }

  private translateChoice(choice: ChunkChoice, events: StreamEvent[]): void {
    const choiceIndex = typeof choice.index === 'number' ? choice.index : 0;
    const tag = choiceIndex === 0 ? undefined : choiceIndex;
    const delta = choice.delta;
    if (delta) {
      const reasoning = delta.reasoning_content || delta.reasoning;
      if (reasoning) events.push(tag === undefined ? { type: 'reasoning-delta', text: reasoning } : { type: 'reasoning-delta', text: reasoning, choice: tag });
      if (delta.content) events.push(tag === undefined ? { type: 'text-delta', text: delta.content } : { type: 'text-delta', text: delta.content, choice: tag });
      if (delta.refusal) events.push({ type: 'refusal-delta', text: delta.refusal, choice: tag });
      if (Array.isArray(delta.tool_calls)) {
        for (let position = 0; position < delta.tool_calls.length; position++) {
          this.translateToolCall(choiceIndex, tag, delta.tool_calls[position]!, position, events);
        }
      }
    }
    if (choice.finish_reason) {
      this.finished = true;
      events.push({ type: 'finish', reason: { unified: unifyFinishReason(choice.finish_reason), raw: choice.finish_reason }, choice: tag });
    }
  }

  private translateToolCall(
    choiceIndex: number,
    tag: number | undefined,
    call: NonNullable<NonNullable<ChunkChoice['delta']>['tool_calls']>[number],
    position: number,
    events: StreamEvent[],
  ): void {
    let slots = this.tools.get(choiceIndex);
    if (!slots) {
      slots = new Map();
      this.tools.set(choiceIndex, slots);
    }
    const upstreamIndex = typeof call.index === 'number' ? call.index : position;
    let slot = slots.get(upstreamIndex);
    const name = call.function?.name;
    // A fragment that names a function under a different id is a new call, even if the
    // server reused the index; a fresh id without a name is just a noisy fragment.
    const startsNewCall = slot === undefined || (Boolean(name) && Boolean(call.id) && call.id !== slot.id);
    if (startsNewCall) {
      const outputIndex = this.nextToolIndex.get(choiceIndex) ?? 0;
      this.nextToolIndex.set(choiceIndex, outputIndex + 1);
      slot = { id: call.id ?? `call_${outputIndex}`, outputIndex };
      slots.set(upstreamIndex, slot);
      events.push({ type: 'tool-call-start', index: outputIndex, id: slot.id, name: name ?? '', choice: tag });
    }
    const argumentsDelta = call.function?.arguments;
    if (argumentsDelta) events.push({ type: 'tool-call-delta', index: slot!.outputIndex, argumentsDelta, choice: tag });
  }
}
