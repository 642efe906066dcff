/**
 * The core response → an Anthropic `Message`: `{id, type:"message", role:"assistant", model,
 * content, stop_reason, stop_sequence, usage}`. Parts become blocks in order: text (with its
 * Anthropic citations), reasoning → thinking (signature: conventions.ts) or redacted_thinking,
 * tool calls → tool_use (input parsed; `{}` when it is not a JSON object), a refusal → text,
 * Anthropic-native parts (server tool blocks) as they came; other families' native parts have
 * no Anthropic form and are left out.
 */
import type { AssistantPart, CoreResponse } from '../../../core/types.js';
import { anthropicStopReason, anthropicUsage, carrierSignature, needsCarrier, signatureFor, toolCallCarrierSignature, type AnthropicUsageWire } from './conventions.js';

export interface AnthropicMessageWire {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<Record<string, unknown>>;
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: AnthropicUsageWire;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tool call's argument text as the `input` object Anthropic clients expect. */
export function toolInput(input: string): Record<string, unknown> {
  if (input.trim().length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(input);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** An id in Anthropic's shape for a message whose upstream id is another family's. */
export function messageId(id: string | null, fallback: string): string {
  return id && id.startsWith('msg_') ? id : `msg_${fallback.replace(/-/g, '')}`;
}

export function encodeBlocks(parts: AssistantPart[]): Array<Record<string, unknown>> {
  const blocks: Array<Record<string, unknown>> = [];
  for (const part of parts) {
    switch (part.type) {
      case 'text': {
        if (part.text.length > 0) {
          const block: Record<string, unknown> = { type: 'text', text: part.text };
          if (part.citations?.family === 'anthropic') block.citations = part.citations.data.citations;
          blocks.push(block);
        }
        // Another family's state of this text (a Gemini signature) rides in a thinking block just after it.
        if (needsCarrier(part.providerData)) blocks.push({ type: 'thinking', thinking: '', signature: carrierSignature(part.providerData, 'text') });
        break;
      }
      case 'refusal':
        blocks.push({ type: 'text', text: part.text });
        break;
      case 'reasoning':
        if (part.redacted && part.providerData?.family === 'anthropic') blocks.push({ type: 'redacted_thinking', data: part.providerData.data.data });
        else blocks.push({ type: 'thinking', thinking: part.text, signature: signatureFor(part.providerData) });
        break;
      case 'tool-call':
        if (needsCarrier(part.providerData)) blocks.push({ type: 'thinking', thinking: '', signature: toolCallCarrierSignature(part.providerData) });
        blocks.push({ type: 'tool_use', id: part.id, name: part.name, input: toolInput(part.input) });
        break;
      case 'native':
        if (part.family === 'anthropic' && isRecord(part.value)) blocks.push(part.value);
        break;
    }
  }
  return blocks;
}

export function encodeMessage(core: CoreResponse, requestId: string): AnthropicMessageWire {
  const choice = core.choices[0];
  return {
    id: messageId(core.id, requestId),
    type: 'message',
    role: 'assistant',
    model: core.model,
    content: choice ? encodeBlocks(choice.content) : [],
    stop_reason: anthropicStopReason(choice?.finish ?? null),
    stop_sequence: choice?.finish?.stopSequence ?? null,
    usage: anthropicUsage(core.usage),
  };
}
