/**
 * A Gemini `streamGenerateContent?alt=sse` stream → core stream events. Every frame is a
 * whole GenerateContentResponse holding only the new parts; a function call arrives whole in
 * one frame; `usageMetadata` is cumulative, so only the last one counts and it is emitted
 * once, at the end. There is no end sentinel: the stream ends when the connection closes,
 * and one that closes before any finishReason was seen was cut short.
 *
 * Blocks, per candidate: consecutive text parts are one text block, consecutive thought parts
 * one reasoning block (a block ends when a part of another kind comes, when the candidate
 * finishes or when the stream ends); a function call is a tool-call block of its own, started,
 * given its whole arguments and ended at once. A thought signature on a text or thought part
 * ends its block as Gemini provider data; on a function call it rides on the block's start.
 */
import type { CoreStreamEvent, ProviderData } from '../../../core/types.js';
import { GatewayError } from '../../errors.js';
import type { SseEvent } from '../../sse/decoder.js';
import type { CoreStreamTranslator, UpstreamTarget } from '../types.js';
import { errorEvent, promptBlockedError, streamErrorEvent } from './errors.js';
import { mapFinishReason } from './finish-reason.js';
import { argumentsJson, signatureData, syntheticToolCallId } from './tool-calls.js';
import { normaliseGeminiUsage } from './usage.js';
import type { GeminiCandidate, GeminiGenerateContentResponse, GeminiUsageMetadata } from './wire-types.js';

interface CandidateState {
  toolCalls: number;
  finished: boolean;
  /** The text or reasoning block in progress, and the signature to end it with. */
  open: { id: string; kind: 'text' | 'reasoning'; signature?: ProviderData } | null;
}

export class GeminiStreamTranslator implements CoreStreamTranslator {
  private started = false;
  private failed = false;
  private responseId = '';
  private blocks = 0;
  private lastUsage: GeminiUsageMetadata | null = null;
  private readonly candidates = new Map<number, CandidateState>();

  constructor(private readonly target: UpstreamTarget) {}

  /** Gemini sends no end marker, so only a failure ends the stream early. */
  get done(): boolean {
    return this.failed;
  }

  push(event: SseEvent): CoreStreamEvent[] {
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

    const events: CoreStreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      if (typeof chunk.responseId === 'string') this.responseId = chunk.responseId;
      events.push({
        type: 'response-start',
        // The gateway's answers have always carried Gemini's response id with this prefix.
        id: this.responseId ? `chatcmpl-${this.responseId}` : '',
        model: typeof chunk.modelVersion === 'string' && chunk.modelVersion.length > 0 ? chunk.modelVersion : this.target.model,
      });
    }
    if (chunk.usageMetadata && typeof chunk.usageMetadata === 'object') this.lastUsage = chunk.usageMetadata;

    const candidates = Array.isArray(chunk.candidates) ? chunk.candidates : [];
    if (candidates.length === 0 && chunk.promptFeedback?.blockReason) {
      this.failed = true;
      events.push(errorEvent(promptBlockedError(this.target.provider.name, chunk.promptFeedback)));
      return events;
    }
    candidates.forEach((candidate, position) => this.translateCandidate(candidate, position, events));
    return events;
  }

  end(): CoreStreamEvent[] {
    if (this.failed) return [];
    const events: CoreStreamEvent[] = [];
    const usage = normaliseGeminiUsage(this.lastUsage);
    if (usage) events.push({ type: 'usage', usage });
    const finished = this.candidates.size > 0 && [...this.candidates.values()].every((state) => state.finished);
    if (!finished) {
      events.push(...this.fail(502, `${this.target.provider.name} closed the stream before it finished (no finishReason was sent)`, 'upstream_stream_incomplete'));
      return events;
    }
    for (const [index, state] of this.candidates) this.closeOpen(index, state, events);
    return events;
  }

  private fail(status: number, message: string, code: string): CoreStreamEvent[] {
    this.failed = true;
    return [errorEvent(new GatewayError(status, message, { type: 'upstream_error', code }))];
  }

  private tagged<T extends CoreStreamEvent>(event: T, index: number): T {
    if (index !== 0) (event as { choice?: number }).choice = index;
    return event;
  }

  private closeOpen(index: number, state: CandidateState, events: CoreStreamEvent[]): void {
    const open = state.open;
    if (!open) return;
    state.open = null;
    events.push(this.tagged(open.signature ? { type: 'block-end', id: open.id, providerData: open.signature } : { type: 'block-end', id: open.id }, index));
  }

  /** The text or reasoning block for a part, opened (and the other kind closed) as needed. */
  private sequential(index: number, state: CandidateState, kind: 'text' | 'reasoning', events: CoreStreamEvent[]): NonNullable<CandidateState['open']> {
    if (state.open?.kind === kind) return state.open;
    this.closeOpen(index, state, events);
    const id = `blk_${this.blocks++}`;
    state.open = { id, kind };
    events.push(this.tagged({ type: 'block-start', block: { id, kind } }, index));
    return state.open;
  }

  private translateCandidate(candidate: GeminiCandidate, position: number, events: CoreStreamEvent[]): void {
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    let state = this.candidates.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false, open: null };
      this.candidates.set(index, state);
    }
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall && typeof part.functionCall === 'object') {
        this.closeOpen(index, state, events);
        const call = part.functionCall;
        const toolIndex = state.toolCalls++;
        const callId = typeof call.id === 'string' && call.id.length > 0 ? call.id : syntheticToolCallId(this.responseId, index, toolIndex, call.name, call.args);
        const id = `blk_${this.blocks++}`;
        const data = signatureData(part.thoughtSignature);
        const block = data
          ? { id, kind: 'tool-call' as const, callId, name: call.name, toolKind: 'function' as const, providerData: data }
          : { id, kind: 'tool-call' as const, callId, name: call.name, toolKind: 'function' as const };
        events.push(
          this.tagged({ type: 'block-start', block }, index),
          this.tagged({ type: 'block-delta', id, inputDelta: argumentsJson(call.args) }, index),
          this.tagged({ type: 'block-end', id }, index),
        );
        continue;
      }
      const signature = signatureData(part.thoughtSignature);
      const hasText = typeof part.text === 'string' && part.text.length > 0;
      if (!hasText && !signature) continue;
      const block = this.sequential(index, state, part.thought === true ? 'reasoning' : 'text', events);
      if (hasText) events.push(this.tagged({ type: 'block-delta', id: block.id, text: part.text as string }, index));
      if (signature) block.signature = signature;
    }
    // A trailing usage-only frame may repeat the finishReason: one finish per choice.
    if (typeof candidate.finishReason === 'string' && candidate.finishReason.length > 0 && !state.finished) {
      state.finished = true;
      this.closeOpen(index, state, events);
      events.push(this.tagged({ type: 'finish', finish: mapFinishReason(candidate.finishReason, state.toolCalls > 0) }, index));
    }
  }
}
