/**
 * Builds a well-formed CoreStreamEvent sequence from the flat deltas most wire formats
 * stream (OpenAI chunks, from an upstream or read back from the gateway's own): it gives every block an id, opens
 * it before its first delta and closes it when another block begins, when its choice finishes
 * or when the stream ends, so encoders never guess where a block begins or ends.
 *
 * Per choice, text, reasoning and refusal blocks follow one another (a new one closes the
 * one before); tool-call blocks stay open until the choice finishes, because OpenAI-style
 * streams may send arguments of parallel calls interleaved (by tool index).
 */
import type { CoreFinish, CoreStreamEvent, ProviderData } from './types.js';

type SequentialKind = 'text' | 'reasoning' | 'refusal';

interface ChoiceState {
  current: { id: string; kind: SequentialKind } | null;
  /** Open tool-call blocks by the format's tool index (made at the first call: most streams have none). */
  tools: Map<number, string> | null;
}

export class CoreStreamBuilder {
  private counter = 0;
  private readonly choices = new Map<number, ChoiceState>();
  /** Choice 0's state, also in `choices` (almost every event is choice 0's: no map lookup for it). */
  private first: ChoiceState | null = null;

  constructor(private readonly prefix = 'blk') {}

  private state(choice: number): ChoiceState {
    if (choice === 0 && this.first !== null) return this.first;
    let state = this.choices.get(choice);
    if (!state) {
      state = { current: null, tools: null };
      this.choices.set(choice, state);
      if (choice === 0) this.first = state;
    }
    return state;
  }

  private nextId(): string {
    return `${this.prefix}_${this.counter++}`;
  }

  private tag<T extends CoreStreamEvent>(event: T, choice: number): T {
    if (choice !== 0) (event as { choice?: number }).choice = choice;
    return event;
  }

  private closeCurrent(choice: number, state: ChoiceState, out: CoreStreamEvent[], providerData?: ProviderData): void {
    if (!state.current) return;
    out.push(this.tag(providerData ? { type: 'block-end', id: state.current.id, providerData } : { type: 'block-end', id: state.current.id }, choice));
    state.current = null;
  }

  /** Opens a sequential block of `kind` unless one is open; returns its id. */
  private ensure(choice: number, kind: SequentialKind, out: CoreStreamEvent[]): string {
    const state = this.state(choice);
    if (state.current?.kind === kind) return state.current.id;
    this.closeCurrent(choice, state, out);
    const id = this.nextId();
    state.current = { id, kind };
    out.push(this.tag({ type: 'block-start', block: { id, kind } }, choice));
    return id;
  }

  text(choice: number, text: string, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    const id = this.ensure(choice, 'text', out);
    out.push(this.tag({ type: 'block-delta', id, text }, choice));
    return out;
  }

  refusal(choice: number, text: string, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    const id = this.ensure(choice, 'refusal', out);
    out.push(this.tag({ type: 'block-delta', id, text }, choice));
    return out;
  }

  /** Reasoning text; an empty delta opens the block without a delta. */
  reasoning(choice: number, text: string, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    const id = this.ensure(choice, 'reasoning', out);
    if (text.length > 0) out.push(this.tag({ type: 'block-delta', id, text }, choice));
    return out;
  }

  /** Ends the reasoning block in progress with its provider state (a signature); opens an empty one if none is open. */
  endReasoning(choice: number, providerData: ProviderData | undefined, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    this.ensure(choice, 'reasoning', out);
    this.closeCurrent(choice, this.state(choice), out, providerData);
    return out;
  }

  /** A whole redacted reasoning block (state only its provider can read). */
  redactedReasoning(choice: number, providerData: ProviderData, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    const state = this.state(choice);
    this.closeCurrent(choice, state, out);
    const id = this.nextId();
    out.push(this.tag({ type: 'block-start', block: { id, kind: 'reasoning', redacted: true, providerData } }, choice));
    out.push(this.tag({ type: 'block-end', id, providerData }, choice));
    return out;
  }

  toolStart(choice: number, index: number, callId: string, name: string, providerData?: ProviderData, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    const state = this.state(choice);
    this.closeCurrent(choice, state, out);
    const tools = (state.tools ??= new Map());
    const previous = tools.get(index);
    if (previous !== undefined) out.push(this.tag({ type: 'block-end', id: previous }, choice));
    const id = this.nextId();
    tools.set(index, id);
    const block = providerData
      ? { id, kind: 'tool-call' as const, callId, name, toolKind: 'function' as const, providerData }
      : { id, kind: 'tool-call' as const, callId, name, toolKind: 'function' as const };
    out.push(this.tag({ type: 'block-start', block }, choice));
    return out;
  }

  /** Argument text for the call at `index` (ignored when no such call was started). */
  toolDelta(choice: number, index: number, inputDelta: string, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    const id = this.choices.get(choice)?.tools?.get(index);
    if (id !== undefined) out.push(this.tag({ type: 'block-delta', id, inputDelta }, choice));
    return out;
  }

  /** Closes the choice's open blocks, then its finish. */
  finish(choice: number, finish: CoreFinish, out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    this.closeChoice(choice, out);
    out.push(this.tag({ type: 'finish', finish }, choice));
    return out;
  }

  private closeChoice(choice: number, out: CoreStreamEvent[]): void {
    const state = this.choices.get(choice);
    if (!state) return;
    this.closeCurrent(choice, state, out);
    if (state.tools === null) return;
    for (const id of state.tools.values()) out.push(this.tag({ type: 'block-end', id }, choice));
    state.tools.clear();
  }

  /** Closes every block still open (the stream ended). */
  closeAll(out: CoreStreamEvent[] = []): CoreStreamEvent[] {
    for (const choice of this.choices.keys()) this.closeChoice(choice, out);
    return out;
  }

  get hasOpenBlocks(): boolean {
    for (const state of this.choices.values()) if (state.current || (state.tools !== null && state.tools.size > 0)) return true;
    return false;
  }
}
