/**
 * Gemini's function-call state in the core.
 *
 * Ids: Gemini usually omits `functionCall.id`. The gateway then makes one up,
 * deterministically: `call_` + 24 hex digits of a SHA-256 over the response id, candidate,
 * call position, name and arguments, so a streamed and a non-streamed answer get the same
 * ids and ids differ between turns. A call Gemini did give an id keeps it. Going back, an
 * id the gateway made up is never sent to Gemini (it never issued it); any other id is sent
 * on both the `functionCall` and its `functionResponse`.
 *
 * Thought signatures: Gemini signs the function calls (and sometimes the text) of a turn
 * that followed thinking, and wants the signature back with that part. It rides in the core
 * as ProviderData `{family:'gemini', data:{thoughtSignature}}` on the ToolCallPart (or the
 * TextPart) and is replayed unchanged; state of any other family is not sent to Gemini.
 */
import { createHash } from 'node:crypto';
import type { ProviderData } from '../../../core/types.js';

const SYNTHETIC_ID = /^call_[0-9a-f]{24}$/;

export function syntheticToolCallId(responseId: string, candidate: number, position: number, name: string, args: unknown): string {
  const hash = createHash('sha256').update(`${responseId}\u0000${candidate}\u0000${position}\u0000${name}\u0000${JSON.stringify(args ?? {})}`).digest('hex');
  return `call_${hash.slice(0, 24)}`;
}

export function isSyntheticToolCallId(id: string): boolean {
  return SYNTHETIC_ID.test(id);
}

/** A part's thought signature as provider data, or undefined when it has none. */
export function signatureData(signature: unknown): ProviderData | undefined {
  return typeof signature === 'string' && signature.length > 0 ? { family: 'gemini', data: { thoughtSignature: signature } } : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The thought signature in Gemini provider data: `data.thoughtSignature`, or, for an
 * `extra_content` kept whole by a client format, its `google.thought_signature`.
 */
export function signatureFrom(data: ProviderData | undefined): string | undefined {
  if (!data || data.family !== 'gemini') return undefined;
  if (typeof data.data.thoughtSignature === 'string' && data.data.thoughtSignature.length > 0) return data.data.thoughtSignature;
  const extra = data.data.extraContent;
  if (!isRecord(extra) || !isRecord(extra.google)) return undefined;
  const signature = extra.google.thought_signature;
  return typeof signature === 'string' && signature.length > 0 ? signature : undefined;
}

/** Gemini's `args` as the call's argument text (`{}` when there are none). */
export function argumentsJson(args: unknown): string {
  return args === undefined || args === null ? '{}' : JSON.stringify(args);
}
