/**
 * OpenAI's Responses SSE stream → core stream events (see responses-api.ts for the items).
 * The client of a pass-through stream gets the upstream's own events; these core events are
 * what the log, the usage, the inspector and the cache see.
 *
 *   response.created → response-start
 *   output_item.added (reasoning, function_call, custom_tool_call) → block-start, keyed by item id
 *   content_part.added (output_text, refusal) → block-start of the part; its deltas; content_part.done → block-end
 *   reasoning_summary_text.delta, function_call_arguments.delta, custom_tool_call_input.delta → block-delta
 *   output_item.done → block-end (reasoning with its encrypted_content); any other item → a native block
 *   response.completed / response.incomplete → usage and finish, the end; response.failed / error → error
 */
import type { CoreBlockStart, CoreStreamEvent } from '../../../core/types.js';
import { coreErrorFromBody } from '../../core-errors.js';
import type { SseEvent } from '../../sse/decoder.js';
import type { CoreStreamTranslator, UpstreamTarget } from '../types.js';
import { reasoningPart, responsesCoreUsage, responsesFinish } from './responses-api.js';

type Item = Record<string, unknown>;

function isRecord(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export class ResponsesStreamTranslator implements CoreStreamTranslator {
  private finished = false;
  private failed = false;
  private sawToolCall = false;
  /** Open blocks by id (an item id, or `item id:content index` for a message's parts). */
  private readonly open = new Set<string>();
  /** The summary part each open reasoning block is in, so parts are joined with a blank line. */
  private readonly summaryIndex = new Map<string, number>();

  constructor(private readonly target: UpstreamTarget) {}

  get done(): boolean {
    return this.finished || this.failed;
  }

  push(event: SseEvent): CoreStreamEvent[] {
    if (this.done) return [];
    let data: Item;
    try {
      const parsed = JSON.parse(event.data) as unknown;
      if (!isRecord(parsed)) throw new Error('not an object');
      data = parsed;
    } catch {
      return this.fail(`${this.target.provider.name} sent a stream event that is not valid JSON`, 'bad_upstream_response');
    }
    const type = typeof data.type === 'string' ? data.type : event.event ?? '';
    const out: CoreStreamEvent[] = [];
    switch (type) {
      case 'response.created': {
        const response = isRecord(data.response) ? data.response : {};
        out.push({
          type: 'response-start',
          id: typeof response.id === 'string' ? response.id : null,
          model: typeof response.model === 'string' ? response.model : this.target.model,
          ...(typeof response.created_at === 'number' ? { created: response.created_at } : {}),
        });
        break;
      }
      case 'response.output_item.added':
        if (isRecord(data.item)) this.itemAdded(data.item, out);
        break;
      case 'response.content_part.added': {
        const part = isRecord(data.part) ? data.part : {};
        const id = `${text(data.item_id)}:${String(data.content_index ?? 0)}`;
        this.start({ id, kind: part.type === 'refusal' ? 'refusal' : 'text' }, out);
        break;
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        this.delta(`${text(data.item_id)}:${String(data.content_index ?? 0)}`, { text: text(data.delta) }, out);
        break;
      case 'response.content_part.done':
        this.close(`${text(data.item_id)}:${String(data.content_index ?? 0)}`, out);
        break;
      case 'response.reasoning_summary_text.delta': {
        const id = text(data.item_id);
        const index = typeof data.summary_index === 'number' ? data.summary_index : 0;
        const previous = this.summaryIndex.get(id);
        this.summaryIndex.set(id, index);
        this.delta(id, { text: (previous !== undefined && previous !== index ? '\n\n' : '') + text(data.delta) }, out);
        break;
      }
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
        this.delta(text(data.item_id), { inputDelta: text(data.delta) }, out);
        break;
      case 'response.output_item.done':
        if (isRecord(data.item)) this.itemDone(data.item, out);
        break;
      case 'response.completed':
      case 'response.incomplete': {
        const response = isRecord(data.response) ? data.response : {};
        for (const id of [...this.open]) this.close(id, out);
        const usage = responsesCoreUsage(response.usage);
        if (usage) out.push({ type: 'usage', usage });
        const finish = responsesFinish(response, this.sawToolCall ? [{ type: 'tool-call', id: '', name: '', input: '', kind: 'function' }] : []);
        out.push({ type: 'finish', finish });
        this.finished = true;
        break;
      }
      case 'response.failed': {
        const response = isRecord(data.response) ? data.response : {};
        const error = isRecord(response.error) ? response.error : {};
        // The upstream's own code goes on unchanged (see CoreError.upstreamOpenAICode).
        const code = typeof error.code === 'string' ? error.code : null;
        return this.fail(`${this.target.provider.name}: ${text(error.message) || 'the response failed'}`, code ?? 'server_error', 'server_error', null, code !== null);
      }
      case 'error': {
        const code = typeof data.code === 'string' ? data.code : null;
        return this.fail(`${this.target.provider.name}: ${text(data.message) || 'upstream stream error'}`, code, 'server_error', typeof data.param === 'string' ? data.param : null, code !== null);
      }
      default:
        break;
    }
    return out;
  }

  end(): CoreStreamEvent[] {
    if (this.done) return [];
    return this.fail(`${this.target.provider.name} closed the stream before it finished`, 'upstream_stream_incomplete');
  }

  private itemAdded(item: Item, out: CoreStreamEvent[]): void {
    const id = text(item.id);
    if (item.type === 'reasoning') this.start({ id, kind: 'reasoning' }, out);
    else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      this.sawToolCall = true;
      this.start({ id, kind: 'tool-call', callId: text(item.call_id), name: text(item.name), toolKind: item.type === 'custom_tool_call' ? 'custom' : 'function' }, out);
    }
  }

  private itemDone(item: Item, out: CoreStreamEvent[]): void {
    const id = text(item.id);
    if (item.type === 'reasoning') {
      const part = reasoningPart(item);
      if (this.open.delete(id)) out.push(part.type === 'reasoning' && part.providerData ? { type: 'block-end', id, providerData: part.providerData } : { type: 'block-end', id });
    } else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      if (this.open.delete(id)) out.push({ type: 'block-end', id });
    } else if (item.type !== 'message') {
      // A hosted tool's call (web_search_call …): one native block holding the item whole.
      out.push({ type: 'block-start', block: { id, kind: 'native', family: 'openai', nativeKind: text(item.type) || 'unknown', value: item } });
      out.push({ type: 'block-end', id });
    }
  }

  private start(block: CoreBlockStart, out: CoreStreamEvent[]): void {
    if (this.open.has(block.id)) return;
    this.open.add(block.id);
    out.push({ type: 'block-start', block });
  }

  private delta(id: string, delta: { text?: string; inputDelta?: string }, out: CoreStreamEvent[]): void {
    if (!this.open.has(id) || (delta.text === '' && delta.inputDelta === undefined) || delta.inputDelta === '') return;
    out.push({ type: 'block-delta', id, ...delta });
  }

  private close(id: string, out: CoreStreamEvent[]): void {
    if (this.open.delete(id)) out.push({ type: 'block-end', id });
  }

  private fail(message: string, code: string | null, type = 'upstream_error', param: string | null = null, upstreamOpenAICode = false): CoreStreamEvent[] {
    this.failed = true;
    const error = coreErrorFromBody(502, { message, type, param, code });
    if (upstreamOpenAICode) error.upstreamOpenAICode = true;
    return [{ type: 'error', error }];
  }
}
