/**
 * Core stream events → the core response they add up to, for the log and the inspector: each
 * block becomes a part of its choice, in the order the blocks began (a tool call's arguments
 * are its deltas joined), the finish and the last usage.
 */
import type { AssistantPart, CoreChoice, CoreError, CoreFinish, CoreResponse, CoreStreamEvent, CoreUsage } from '../../../core/types.js';

interface ChoiceParts {
  parts: AssistantPart[];
  finish: CoreFinish | null;
}

export class CoreStreamAccumulator {
  id: string | null = null;
  model = '';
  /** 0 until the stream says (the log has always recorded it so). */
  created = 0;
  usage: CoreUsage | null = null;
  error: CoreError | null = null;
  /** Time (epoch ms) the first content event arrived. */
  firstContentAt: number | null = null;
  private readonly choices = new Map<number, ChoiceParts>();
  private readonly open = new Map<string, AssistantPart>();

  private choice(index: number): ChoiceParts {
    let choice = this.choices.get(index);
    if (!choice) {
      choice = { parts: [], finish: null };
      this.choices.set(index, choice);
    }
    return choice;
  }

  private markFirst(): void {
    if (this.firstContentAt === null) this.firstContentAt = Date.now();
  }

  add(event: CoreStreamEvent): void {
    switch (event.type) {
      case 'response-start':
        this.id = event.id;
        this.model = event.model;
        this.created = event.created ?? this.created;
        return;
      case 'block-start': {
        this.markFirst();
        const block = event.block;
        let part: AssistantPart;
        switch (block.kind) {
          case 'text':
            part = { type: 'text', text: '' };
            break;
          case 'refusal':
            part = { type: 'refusal', text: '' };
            break;
          case 'reasoning':
            part = block.redacted ? { type: 'reasoning', text: '', redacted: true } : { type: 'reasoning', text: '' };
            if (block.providerData) part.providerData = block.providerData;
            break;
          case 'tool-call':
            part = { type: 'tool-call', id: block.callId, name: block.name, input: '', kind: block.toolKind };
            if (block.providerData) part.providerData = block.providerData;
            break;
          case 'native':
            part = { type: 'native', family: block.family, kind: block.nativeKind, value: block.value };
            break;
        }
        this.open.set(block.id, part);
        this.choice(event.choice ?? 0).parts.push(part);
        return;
      }
      case 'block-delta': {
        this.markFirst();
        const part = this.open.get(event.id);
        if (!part) return;
        if (part.type === 'text' || part.type === 'refusal' || part.type === 'reasoning') part.text += event.text ?? '';
        else if (part.type === 'tool-call') part.input += event.inputDelta ?? '';
        return;
      }
      case 'block-end': {
        const part = this.open.get(event.id);
        this.open.delete(event.id);
        if (!part || !event.providerData) return;
        // Anthropic's citations arrive at a text block's end (see the Anthropic stream translator): they are the part's citations.
        if (part.type === 'text' && event.providerData.family === 'anthropic' && Array.isArray(event.providerData.data.citations)) part.citations = event.providerData;
        else if (part.type === 'reasoning' || part.type === 'tool-call' || part.type === 'text') part.providerData = event.providerData;
        return;
      }
      case 'finish':
        this.choice(event.choice ?? 0).finish = event.finish;
        return;
      case 'usage':
        this.usage = event.usage;
        return;
      case 'error':
        this.error = event.error;
        return;
    }
  }

  /** The response so far (choice 0 is always there, empty when nothing came). */
  toResponse(): CoreResponse {
    this.choice(0);
    const choices: CoreChoice[] = [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, choice]) => ({
        index,
        // Empty text and refusal blocks say nothing; the log has always left them out.
        content: choice.parts.filter((part) => !((part.type === 'text' || part.type === 'refusal') && part.text === '' && !(part.type === 'text' && part.providerData))),
        finish: choice.finish,
      }));
    return { id: this.id, model: this.model, created: this.created, choices, usage: this.usage };
  }
}
