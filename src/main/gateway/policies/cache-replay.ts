/**
 * A stored core response → the core stream events that add up to it, so a cached answer is
 * replayed through the client format's own stream encoder (chat chunks with the usage chunk
 * when asked for, Anthropic's message_start … message_stop) exactly like a live one. Usage
 * comes first, so message_start carries the input tokens as Anthropic's does.
 */
import type { AssistantPart, CoreBlockStart, CoreResponse, CoreStreamEvent } from '../../core/types.js';

function blockOf(part: AssistantPart, id: string): { start: CoreBlockStart; delta: Omit<Extract<CoreStreamEvent, { type: 'block-delta' }>, 'id' | 'choice'> | null; end: Extract<CoreStreamEvent, { type: 'block-end' }>['providerData'] } {
  switch (part.type) {
    case 'text':
      return { start: { id, kind: 'text' }, delta: part.text ? { type: 'block-delta', text: part.text } : null, end: part.citations ?? part.providerData };
    case 'refusal':
      return { start: { id, kind: 'refusal' }, delta: part.text ? { type: 'block-delta', text: part.text } : null, end: undefined };
    case 'reasoning':
      return {
        start: part.redacted ? { id, kind: 'reasoning', redacted: true, ...(part.providerData ? { providerData: part.providerData } : {}) } : { id, kind: 'reasoning' },
        delta: part.text ? { type: 'block-delta', text: part.text } : null,
        end: part.redacted ? undefined : part.providerData,
      };
    case 'tool-call':
      return {
        start: { id, kind: 'tool-call', callId: part.id, name: part.name, toolKind: part.kind, ...(part.providerData ? { providerData: part.providerData } : {}) },
        delta: part.input ? { type: 'block-delta', inputDelta: part.input } : null,
        end: undefined,
      };
    case 'native':
      return { start: { id, kind: 'native', family: part.family, nativeKind: part.kind, value: part.value }, delta: null, end: undefined };
  }
}

export function replayEvents(response: CoreResponse): CoreStreamEvent[] {
  const events: CoreStreamEvent[] = [{ type: 'response-start', id: response.id, model: response.model, created: response.created }];
  if (response.usage) events.push({ type: 'usage', usage: response.usage });
  let counter = 0;
  for (const choice of response.choices) {
    const tag = choice.index === 0 ? {} : { choice: choice.index };
    for (const part of choice.content) {
      const id = `cache_${counter++}`;
      const block = blockOf(part, id);
      events.push({ type: 'block-start', block: block.start, ...tag });
      if (block.delta) events.push({ ...block.delta, id, ...tag });
      events.push(block.end ? { type: 'block-end', id, providerData: block.end, ...tag } : { type: 'block-end', id, ...tag });
    }
    if (choice.finish) events.push({ type: 'finish', finish: choice.finish, ...tag });
  }
  return events;
}
