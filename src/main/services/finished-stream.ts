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
import type { CoreStreamEvent } from '../core/types.js';

type Delta = Extract<CoreStreamEvent, { type: 'block-delta' }>;

export interface FinishedStream {
  /** The deltas' texts (or tool-call input), joined in order. */
  texts: string;
  /**
   * Two numbers per event. A delta: its text's length × 2 (+1 for tool-call input), and which
   * block-start among `others` it belongs to (-1: none had begun). Any other event: -1, and
   * its index in `others`.
   */
  marks: number[];
  others: CoreStreamEvent[];
}

export function compactStream(events: readonly CoreStreamEvent[]): FinishedStream {
  const texts: string[] = [];
  const marks: number[] = [];
  const others: CoreStreamEvent[] = [];
  // Block ids in the order their blocks began, beside their place in `others`.
  const blockIds: string[] = [];
  const blockAt: number[] = [];
  let lastId: string | null = null;
  let lastBlock = -1;
  for (const event of events) {
    if (event.type !== 'block-delta') {
      if (event.type === 'block-start') {
        blockIds.push(event.block.id);
        blockAt.push(others.length);
        // A block that begins again under an id seen before is the one its deltas name from now on.
        if (event.block.id === lastId) lastBlock = others.length;
      }
      marks.push(-1, others.length);
      others.push(event);
      continue;
    }
    if (event.id !== lastId) {
      lastId = event.id;
      const position = blockIds.lastIndexOf(event.id);
      lastBlock = position === -1 ? -1 : (blockAt[position] as number);
    }
    const input = event.inputDelta !== undefined;
    const text = input ? (event.inputDelta as string) : (event.text ?? '');
    texts.push(text);
    marks.push(text.length * 2 + (input ? 1 : 0), lastBlock);
  }
  return { texts: texts.join(''), marks, others };
}

/** The events again, as the inspector describes them. */
export function expandStream(stream: FinishedStream): CoreStreamEvent[] {
  const events: CoreStreamEvent[] = [];
  let position = 0;
  for (let index = 0; index < stream.marks.length; index += 2) {
    const first = stream.marks[index] as number;
    const second = stream.marks[index + 1] as number;
    if (first === -1) {
      events.push(stream.others[second] as CoreStreamEvent);
      continue;
    }
    const length = first >> 1;
    const text = stream.texts.slice(position, position + length);
    position += length;
    const start = second === -1 ? null : (stream.others[second] as Extract<CoreStreamEvent, { type: 'block-start' }>);
    // A delta no block had begun for keeps an id no block has.
    const id = start ? start.block.id : '\u0000';
    const delta: Delta = (first & 1) === 1 ? { type: 'block-delta', id, inputDelta: text } : { type: 'block-delta', id, text };
    events.push(delta);
  }
  return events;
}
