/**
 * A Gemini `streamGenerateContent?alt=sse` stream → canonical stream events. Every frame is
 * a whole GenerateContentResponse holding only the new parts; a function call arrives whole
 * in one frame; `usageMetadata` is cumulative, so only the last one counts and it is emitted
 * once, at the end. There is no end sentinel: the stream ends when the connection closes,
 * and one that closes before any finishReason was seen was cut short.
 */
import type { SseEvent } from '../../sse/decoder.js';
import type { StreamEvent } from '../../types.js';
import type { StreamTranslator, UpstreamTarget } from '../types.js';
import { promptBlockedError, streamErrorEvent } from './errors.js';
import { mapFinishReason } from './finish-reason.js';
import { argumentsJson, signatureExtraContent, syntheticToolCallId } from './tool-calls.js';
import { normaliseGeminiUsage } from './usage.js';
import type { GeminiCandidate, GeminiGenerateContentResponse, GeminiUsageMetadata } from './wire-types.js';

interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

export class GeminiStreamTranslator implements StreamTranslator {
  private started = false;
  private failed = false;
  private responseId = '';
  private lastUsage: GeminiUsageMetadata | null = null;
  private readonly candidates = new Map<number, CandidateState>();

  constructor(private readonly target: UpstreamTarget) {}

  /** Gemini sends no end marker, so only a failure ends the stream early. */
  get done(): boolean {
    return this.failed;
  }

  push(event: SseEvent): StreamEvent[] {
    if (this.failed) return [];
    let chunk: GeminiGenerateContentResponse;
    try {
      chunk = JSON.parse(event.data) as GeminiGenerateContentResponse;
    } catch {
      return this.fail(502, `${this.target.provider.name} sent a stream chunk that is not valid JSON`, 'bad_upstream_response');
    }
    if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
      return this.fail(502, `${this.target.provider.name} sent a stream chunk that is not a JSON object`, 'bad_upstream_response');
    }
    if (chunk.error !== undefined && chunk.error !== null) {
      this.failed = true;
      return [streamErrorEvent(this.target.provider.name, chunk.error)];
    }

    const events: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      if (typeof chunk.responseId === 'string') this.responseId = chunk.responseId;
      events.push({
        type: 'start',
        id: this.responseId ? `chatcmpl-${this.responseId}` : '',
        model: typeof chunk.modelVersion === 'string' && chunk.modelVersion.length > 0 ? chunk.modelVersion : this.target.model,
      });
    }
    if (chunk.usageMetadata && typeof chunk.usageMetadata === 'object') this.lastUsage = chunk.usageMetadata;

    const candidates = Array.isArray(chunk.candidates) ? chunk.candidates : [];
    if (candidates.length === 0 && chunk.promptFeedback?.blockReason) {
      const error = promptBlockedError(this.target.provider.name, chunk.promptFeedback);
      this.failed = true;
      events.push({ type: 'error', error: { status: error.status, body: error.toBody() } });
      return events;
    }
    candidates.forEach((candidate, position) => this.translateCandidate(candidate, position, events));
    return events;
  }

  end(): StreamEvent[] {
    if (this.failed) return [];
    const events: StreamEvent[] = [];
    const usage = normaliseGeminiUsage(this.lastUsage);
    if (usage) events.push({ type: 'usage', usage });
    const finished = this.candidates.size > 0 && [...this.candidates.values()].every((state) => state.finished);
    if (!finished) {
      events.push(...this.fail(502, `${this.target.provider.name} closed the stream before it finished (no finishReason was sent)`, 'upstream_stream_incomplete'));
    }
    return events;
  }

  private fail(status: number, message: string, code: string): StreamEvent[] {
    this.failed = true;
    return [{ type: 'error', error: { status, body: { message, type: 'upstream_error', param: null, code } } }];
  }

  private translateCandidate(candidate: GeminiCandidate, position: number, events: StreamEvent[]): void {
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    const choice = index === 0 ? undefined : index;
    let state = this.candidates.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false };
      this.candidates.set(index, state);
    }
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall && typeof part.functionCall === 'object') {
        const call = part.functionCall;
        const toolIndex = state.toolCalls++;
        const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : syntheticToolCallId(this.responseId, index, toolIndex, call.name, call.args);
        const start: Extract<StreamEvent, { type: 'tool-call-start' }> = { type: 'tool-call-start', index: toolIndex, id, name: call.name, choice };
        const extraContent = signatureExtraContent(part.thoughtSignature);
        if (extraContent) start.extraContent = extraContent;
        events.push(start, { type: 'tool-call-delta', index: toolIndex, argumentsDelta: argumentsJson(call.args), choice });
        continue;
      }
      if (typeof part.text === 'string' && part.text.length > 0) {
        events.push(part.thought === true ? { type: 'reasoning-delta', text: part.text, choice } : { type: 'text-delta', text: part.text, choice });
      }
    }
    // A trailing usage-only frame may repeat the finishReason: one finish per choice.
    if (typeof candidate.finishReason === 'string' && candidate.finishReason.length > 0 && !state.finished) {
      state.finished = true;
      events.push({ type: 'finish', reason: mapFinishReason(candidate.finishReason, state.toolCalls > 0), choice });
    }
  }
}
