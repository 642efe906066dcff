/**
 * The playground's client for /v1/chat/completions: sends the request through the
 * gateway like any other client (its own key, `x-tags: source:playground`), reads the SSE
 * stream and assembles the reply — text, reasoning, tool calls, usage, finish reason —
 * with the time to first token and the total time measured on this side.
 */
import { SseParser } from '../client/sse-parser';

export interface ToolCallView {
  index: number;
  id: string;
  name: string;
  arguments: string;
}

export interface AssembledReply {
  content: string;
  reasoning: string;
  toolCalls: ToolCallView[];
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number; reasoningTokens: number } | null;
  model: string | null;
  error: string | null;
}

export function emptyReply(): AssembledReply {
  return { content: '', reasoning: '', toolCalls: [], finishReason: null, usage: null, model: null, error: null };
}

interface ChunkDelta {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  refusal?: string | null;
  tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
}

interface Chunk {
  model?: string;
  choices?: Array<{ delta?: ChunkDelta; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; completion_tokens_details?: { reasoning_tokens?: number } } | null;
  error?: { message?: string };
}

/** Adds one parsed chunk to the reply; returns whether it carried visible content. */
export function addChunk(reply: AssembledReply, chunk: Chunk): boolean {
  let visible = false;
  if (chunk.error) {
    reply.error = chunk.error.message ?? 'The stream ended with an error.';
    return false;
  }
  if (chunk.model) reply.model = chunk.model;
  const choice = chunk.choices?.[0];
  const delta = choice?.delta;
  if (delta) {
    const text = delta.content ?? delta.refusal;
    if (text) {
      reply.content += text;
      visible = true;
    }
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (reasoning) {
      reply.reasoning += reasoning;
      visible = true;
    }
    for (const call of delta.tool_calls ?? []) {
      const index = call.index ?? 0;
      let existing = reply.toolCalls.find((candidate) => candidate.index === index);
      if (!existing) {
        existing = { index, id: call.id ?? '', name: call.function?.name ?? '', arguments: '' };
        reply.toolCalls.push(existing);
      }
      if (call.id) existing.id = call.id;
      if (call.function?.name) existing.name = call.function.name;
      if (call.function?.arguments) existing.arguments += call.function.arguments;
      visible = true;
    }
  }
  if (choice?.finish_reason) reply.finishReason = choice.finish_reason;
  if (chunk.usage) {
    reply.usage = {
      promptTokens: chunk.usage.prompt_tokens ?? 0,
      completionTokens: chunk.usage.completion_tokens ?? 0,
      reasoningTokens: chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0,
    };
  }
  return visible;
}

export interface StreamChatOptions {
  baseUrl: string;
  key: string;
  tags: string;
  body: Record<string, unknown>;
  signal: AbortSignal;
  onUpdate(reply: AssembledReply, timing: { firstTokenMs: number | null }): void;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface StreamChatResult {
  reply: AssembledReply;
  requestId: string | null;
  firstTokenMs: number | null;
  totalMs: number;
  aborted: boolean;
}

export async function streamChat(options: StreamChatOptions): Promise<StreamChatResult> {
  const now = options.now ?? (() => performance.now());
  const fetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
  const started = now();
  const reply = emptyReply();
  let firstTokenMs: number | null = null;
  let requestId: string | null = null;
  try {
    const response = await fetchFunction(`${options.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.key}`, 'x-tags': options.tags },
      body: JSON.stringify({ ...options.body, stream: true, stream_options: { include_usage: true } }),
      signal: options.signal,
    });
    requestId = response.headers.get('x-switchyard-request-id');
    if (!response.ok || !response.body) {
      const text = await response.text();
      let message = `HTTP ${response.status}`;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // Keep the status line.
      }
      reply.error = message;
      return { reply, requestId, firstTokenMs, totalMs: now() - started, aborted: false };
    }
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    const handle = (data: string): void => {
      if (data === '[DONE]') return;
      let chunk: Chunk;
      try {
        chunk = JSON.parse(data) as Chunk;
      } catch {
        return;
      }
      if (addChunk(reply, chunk) && firstTokenMs === null) firstTokenMs = now() - started;
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const events = parser.push(decoder.decode(value, { stream: true }));
      for (const event of events) handle(event.data);
      if (events.length > 0) options.onUpdate(reply, { firstTokenMs });
    }
    for (const event of parser.end()) handle(event.data);
    options.onUpdate(reply, { firstTokenMs });
    return { reply, requestId, firstTokenMs, totalMs: now() - started, aborted: false };
  } catch (error) {
    const aborted = options.signal.aborted;
    if (!aborted) reply.error = `The gateway could not be reached: ${(error as Error).message}`;
    return { reply, requestId, firstTokenMs, totalMs: now() - started, aborted };
  }
}
