/**
 * A finished stream's events as the live tracker keeps them for the inspector: the deltas'
 * texts joined into one string, every other event as it is. The tracker remembers the last
 * 500 finished requests; holding each stream's event objects (one per delta, and a string
 * each) that long made all of them survive into the old generation, and the garbage
 * collector's work for them cost more per stream than the stream's own translation.
 * Compacting is one pass and one join; expanding, only when the inspector asks, gives back
 * what the inspector describes: each event's kind, block and text (a delta's `choice` is not
 * kept: nothing shows it).
 */
import type { CoreStreamEvent, CoreUsage } from '../core/types.js';

type Delta = Extract<CoreStreamEvent, { type: 'block-delta' }>;

export interface FinishedStream {
  /** The deltas' texts (or tool-call input), joined in order. */
  texts: string;
  /** One number per event: a delta's text length × 2 (+1 for tool-call input); any other event, -1 - its index in `others`. */
  marks: number[];
  /** Where the deltas' block changes: pairs of the event's index and the block-start's index in `others` (-1: none had begun). */
  blocks: number[];
  /** The events that are not deltas (a usage without the upstream's raw report, which nothing shows). */
  others: CoreStreamEvent[];
}

export function compactStream(events: readonly CoreStreamEvent[]): FinishedStream {
  const texts: string[] = [];
  // Sized once: kept for long, an array grown by push would hold its spare room too.
  const marks = new Array<number>(events.length);
  const blocks: number[] = [];
  const others: CoreStreamEvent[] = [];
  // Block ids in the order their blocks began, beside their place in `others`.
  const blockIds: string[] = [];
  const blockAt: number[] = [];
  let lastId: string | null = null;
  let lastBlock = -2;
  for (let index = 0; index < events.length; index++) {
    const event = events[index] as CoreStreamEvent;
    if (event.type !== 'block-delta') {
      if (event.type === 'block-start') {
        blockIds.push(event.block.id);
        blockAt.push(others.length);
        // A block begun again under the id the last delta named: its next deltas are looked up afresh.
        if (event.block.id === lastId) lastId = null;
      }
      marks[index] = -1 - others.length;
      others.push(event.type === 'usage' ? { type: 'usage', usage: withoutRaw(event.usage) } : event);
      continue;
    }
    if (event.id !== lastId) {
      lastId = event.id;
      const position = blockIds.lastIndexOf(event.id);
      const block = position === -1 ? -1 : (blockAt[position] as number);
      if (block !== lastBlock) blocks.push(index, block);
      lastBlock = block;
    }
    const input = event.inputDelta !== undefined;
    const text = input ? (event.inputDelta as string) : (event.text ?? '');
    texts.push(text);
    marks[index] = text.length * 2 + (input ? 1 : 0);
  }
  return { texts: texts.join(''), marks, blocks, others };
}

function withoutRaw(usage: CoreUsage): CoreUsage {
  return { inputTokens: usage.inputTokens, cachedInputTokens: usage.cachedInputTokens, cacheWriteInputTokens: usage.cacheWriteInputTokens, outputTokens: usage.outputTokens, reasoningTokens: usage.reasoningTokens };
}

/** The events again, as the inspector describes them. */
export function expandStream(stream: FinishedStream): CoreStreamEvent[] {
  const events: CoreStreamEvent[] = [];
  let position = 0;
  let change = 0;
  // A delta no block had begun for keeps an id no block has.
  let id = '\u0000';
  for (let index = 0; index < stream.marks.length; index++) {
    const mark = stream.marks[index] as number;
    if (mark < 0) {
      events.push(stream.others[-1 - mark] as CoreStreamEvent);
      continue;
    }
    if (stream.blocks[change] === index) {
      const at = stream.blocks[change + 1] as number;
      id = at === -1 ? '\u0000' : (stream.others[at] as Extract<CoreStreamEvent, { type: 'block-start' }>).block.id;
      change += 2;
    }
    const length = mark >> 1;
    const text = stream.texts.slice(position, position + length);
    position += length;
    const delta: Delta = (mark & 1) === 1 ? { type: 'block-delta', id, inputDelta: text } : { type: 'block-delta', id, text };
    events.push(delta);
  }
  return events;
}
