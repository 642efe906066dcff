/**
 * How the Anthropic format carries what is not Anthropic's: provider state of another family
 * (a Gemini thought signature, OpenAI encrypted reasoning) rides in a thinking block's
 * `signature` as `sy1.<base64url JSON>`, so an Anthropic client (Claude Code) replays it
 * unchanged and the gateway gives it back to the family that made it. An Anthropic signature
 * is the signature itself, byte for byte.
 *
 * A tool call's own state (Gemini signs function calls) has no place in a tool_use block: it
 * rides in an empty thinking block just before it, whose payload says `on: "tool_use"`, and is
 * given back to that tool call when the client replays the turn. Text's own state (Gemini
 * signs the last text of a turn that followed thinking) rides likewise in an empty thinking
 * block just AFTER that text, with `on: "text"`, and is given back to the text before it.
 */
import type { CoreFinish, CoreUsage, ProviderData } from '../../../core/types.js';

const FOREIGN_PREFIX = 'sy1.';

/** The `signature` of a thinking block for a reasoning part's provider data ('' when none). */
export function signatureFor(providerData: ProviderData | undefined): string {
  if (!providerData) return '';
  if (providerData.family === 'anthropic') return typeof providerData.data.signature === 'string' ? providerData.data.signature : '';
  return FOREIGN_PREFIX + Buffer.from(JSON.stringify(providerData), 'utf8').toString('base64url');
}

/** What a carrier thinking block's state belongs to: the tool_use block after it, or the text block before it. */
export type CarriedOn = 'tool_use' | 'text';

/** The signature of a thinking block carrying a tool call's or a text's provider data of another family. */
export function carrierSignature(providerData: ProviderData, on: CarriedOn): string {
  return FOREIGN_PREFIX + Buffer.from(JSON.stringify({ family: providerData.family, data: providerData.data, on }), 'utf8').toString('base64url');
}

/** The signature of the thinking block carrying a tool call's provider data of another family. */
export function toolCallCarrierSignature(providerData: ProviderData): string {
  return carrierSignature(providerData, 'tool_use');
}

/** A tool call's provider data worth a carrier thinking block (another family's state). */
export function needsCarrier(providerData: ProviderData | undefined): providerData is ProviderData {
  return providerData !== undefined && providerData.family !== 'anthropic';
}

/**
 * A client's thinking-block signature → the provider data it stands for (undefined when empty),
 * and `on` when it is a carrier: of the tool_use block that follows, or of the text block before.
 */
export function decodeSignature(signature: string): { providerData: ProviderData | undefined; on: CarriedOn | null } {
  if (signature.length === 0) return { providerData: undefined, on: null };
  if (signature.startsWith(FOREIGN_PREFIX)) {
    try {
      const parsed = JSON.parse(Buffer.from(signature.slice(FOREIGN_PREFIX.length), 'base64url').toString('utf8')) as ProviderData & { on?: unknown };
      if (parsed && typeof parsed === 'object' && typeof parsed.family === 'string' && typeof parsed.data === 'object' && parsed.data !== null) {
        const on = parsed.on === 'tool_use' || parsed.on === 'text' ? parsed.on : null;
        return { providerData: { family: parsed.family, data: parsed.data }, on };
      }
    } catch {
      // not ours after all: kept as an Anthropic signature
    }
  }
  return { providerData: { family: 'anthropic', data: { signature } }, on: null };
}

/** A client's thinking-block signature → the provider data it stands for (undefined when empty). */
export function providerDataFromSignature(signature: string): ProviderData | undefined {
  return decodeSignature(signature).providerData;
}

export const ANTHROPIC_STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']);

/** The core finish → Anthropic's stop_reason (the upstream's own value when it is one of Anthropic's). */
export function anthropicStopReason(finish: CoreFinish | null): string {
  if (!finish) return 'end_turn';
  if (finish.raw && ANTHROPIC_STOP_REASONS.has(finish.raw)) return finish.raw;
  switch (finish.unified) {
    case 'length':
      return 'max_tokens';
    case 'tool-calls':
      return 'tool_use';
    case 'stop-sequence':
      return 'stop_sequence';
    case 'content-filter':
    case 'refusal':
      return 'refusal';
    case 'pause':
      return 'pause_turn';
    default:
      return 'end_turn';
  }
}

export interface AnthropicUsageWire {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
  [key: string]: unknown;
}

/**
 * Core usage → Anthropic's: `input_tokens` is the uncached part only (the core counts the
 * whole prompt), cache reads and writes apart. An Anthropic upstream's own object is passed on
 * as it came (service tier, cache_creation detail, server tool counts).
 */
export function anthropicUsage(usage: CoreUsage | null, estimatedInput = 0): AnthropicUsageWire {
  if (usage?.native?.family === 'anthropic') {
    const data = usage.native.data as Record<string, unknown>;
    return { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0, ...data } as AnthropicUsageWire;
  }
  const cacheRead = usage?.cachedInputTokens ?? 0;
  const cacheWrite = usage?.cacheWriteInputTokens ?? 0;
  const input = usage?.inputTokens ?? null;
  return {
    input_tokens: input === null ? estimatedInput : Math.max(0, input - cacheRead - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: usage?.outputTokens ?? 0,
  };
}
