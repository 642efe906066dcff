/**
 * The conventions that carry Gemini's function-call state through the OpenAI shape.
 *
 * Ids: Gemini usually omits `functionCall.id`. The gateway then makes one up,
 * deterministically: `call_` + 24 hex digits of a SHA-256 over the response id, candidate,
 * call position, name and arguments, so a streamed and a non-streamed answer get the same
 * ids and ids differ between turns. A call Gemini did give an id keeps it. Going back, an
 * id the gateway made up is never sent to Gemini (it never issued it); any other id is sent
 * on both the `functionCall` and its `functionResponse`.
 *
 * Thought signatures: Gemini signs the function calls (and sometimes the text) of a turn
 * that followed thinking, and wants the signature back with that part. The signature rides
 * on the OpenAI tool call as `extra_content: {google: {thought_signature}}` (the convention
 * of Google's own OpenAI-compatible endpoint), and a text signature on the assistant
 * message's `extra_content.google.thought_signature`.
 */
import { createHash } from 'node:crypto';

const SYNTHETIC_ID = /^call_[0-9a-f]{24}$/;

export function syntheticToolCallId(responseId: string, candidate: number, position: number, name: string, args: unknown): string {
  const hash = createHash('sha256').update(`${responseId}\u0000${candidate}\u0000${position}\u0000${name}\u0000${JSON.stringify(args ?? {})}`).digest('hex');
  return `call_${hash.slice(0, 24)}`;
}

export function isSyntheticToolCallId(id: string): boolean {
  return SYNTHETIC_ID.test(id);
}

/** `extra_content` for a part's thought signature, or undefined when it has none. */
export function signatureExtraContent(signature: unknown): { google: { thought_signature: string } } | undefined {
  return typeof signature === 'string' && signature.length > 0 ? { google: { thought_signature: signature } } : undefined;
}

/** Reads `extra_content.google.thought_signature` from a tool call or message. */
export function signatureFrom(holder: unknown): string | undefined {
  if (typeof holder !== 'object' || holder === null) return undefined;
  const extra = (holder as { extra_content?: unknown }).extra_content;
  if (typeof extra !== 'object' || extra === null) return undefined;
  const google = (extra as { google?: unknown }).google;
  if (typeof google !== 'object' || google === null) return undefined;
  const signature = (google as { thought_signature?: unknown }).thought_signature;
  return typeof signature === 'string' && signature.length > 0 ? signature : undefined;
}

/** Gemini's `args` as the OpenAI `arguments` string (`{}` when there are none). */
export function argumentsJson(args: unknown): string {
  return args === undefined || args === null ? '{}' : JSON.stringify(args);
}
