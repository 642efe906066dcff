/**
 * OpenAI chat messages → Anthropic `system` plus alternating user/assistant turns.
 *
 * - `system` and `developer` messages, wherever they are, become the top-level `system` blocks, in order.
 * - `tool` messages become `tool_result` blocks in a user turn; consecutive same-role turns are merged,
 *   so parallel tool results (and any user text after them) form ONE user turn, results first.
 * - Empty text is dropped; a turn left with nothing is dropped, and its neighbours merge.
 * - Assistant `thinking_blocks` (the gateway's convention, see response.ts) are replayed unchanged,
 *   first in their turn; reasoning text without a signature cannot be replayed and is dropped.
 * - Tool-call ids are rewritten where Anthropic's id rules demand it (tool-call-id.ts).
 * - What Anthropic would reject in a well-meant history is repaired with a warning: a tool call
 *   nobody answered gets an error result, a result without its call becomes text, a conversation
 *   that does not start with a user turn gets a placeholder one.
 */
import type { ChatMessage, ContentPart } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import { textContentBlocks, userContentBlocks } from './convert-content.js';
import { anthropicToolCallId } from './tool-call-id.js';
import type { AnthropicMessage, ContentBlock, RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock } from './wire-types.js';

export interface ConvertedMessages {
  system: TextBlock[];
  messages: AnthropicMessage[];
}

/** Sent as the first user turn when a conversation has none before the assistant speaks. */
export const PLACEHOLDER_USER_TEXT = '.';
export const MISSING_TOOL_RESULT_TEXT = 'No result was provided for this tool call.';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function warn(warnings: RequestWarning[], parameter: string, message: string, type: RequestWarning['type'] = 'unsupported-parameter'): void {
  warnings.push({ type, parameter, message });
}

function isThinkingPart(part: unknown): boolean {
  return isRecord(part) && (part.type === 'thinking' || part.type === 'redacted_thinking');
}

/** Thinking blocks to replay, from `thinking_blocks` or (failing that) thinking parts in `content`. */
function replayedThinking(message: ChatMessage, param: string, warnings: RequestWarning[]): Array<ThinkingBlock | RedactedThinkingBlock> {
  const fromField = Array.isArray(message.thinking_blocks) ? (message.thinking_blocks as unknown[]) : null;
  const fromContent = Array.isArray(message.content) ? message.content.filter(isThinkingPart) : [];
  const sources = fromField ?? fromContent;
  const where = fromField ? `${param}.thinking_blocks` : `${param}.content`;
  const blocks: Array<ThinkingBlock | RedactedThinkingBlock> = [];
  sources.forEach((source, index) => {
    if (isRecord(source) && source.type === 'thinking' && typeof source.thinking === 'string' && typeof source.signature === 'string' && source.signature.length > 0) {
      blocks.push({ type: 'thinking', thinking: source.thinking, signature: source.signature });
    } else if (isRecord(source) && source.type === 'redacted_thinking' && typeof source.data === 'string' && source.data.length > 0) {
      blocks.push({ type: 'redacted_thinking', data: source.data });
    } else {
      warn(warnings, `${where}[${index}]`, `${where}[${index}] dropped: only {type:"thinking",thinking,signature} and {type:"redacted_thinking",data} blocks can be replayed to Anthropic`);
    }
  });
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (blocks.length === 0 && typeof reasoning === 'string' && reasoning.length > 0) {
    const field = message.reasoning_content != null ? 'reasoning_content' : 'reasoning';
    warn(warnings, `${param}.${field}`, `${param}.${field} dropped: reasoning without its Anthropic thinking_blocks (and their signatures) cannot be replayed`);
  }
  return blocks;
}

function toolInput(args: unknown, param: string, warnings: RequestWarning[]): Record<string, unknown> {
  if (isRecord(args)) return args;
  if (typeof args !== 'string' || args.trim().length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed)) return parsed;
  } catch {
    // fall through
  }
  warn(warnings, param, `${param} is not a JSON object; sent to Anthropic as {}`, 'other');
  return {};
}

function assistantBlocks(message: ChatMessage, index: number, warnings: RequestWarning[]): ContentBlock[] {
  const param = `messages[${index}]`;
  const thinking = replayedThinking(message, param, warnings);
  const content = Array.isArray(message.content) ? (message.content.filter((part) => !isThinkingPart(part)) as ContentPart[]) : message.content;
  const text = textContentBlocks(content, `${param}.content`, warnings);
  const calls: ToolUseBlock[] = (message.tool_calls ?? []).map((call, callIndex) => ({
    type: 'tool_use',
    id: anthropicToolCallId(call.id),
    name: call.function.name,
    input: toolInput(call.function.arguments, `${param}.tool_calls[${callIndex}].function.arguments`, warnings),
  }));
  if (message.function_call !== undefined && message.function_call !== null) {
    warn(warnings, `${param}.function_call`, `${param}.function_call dropped: the legacy function-call format is not translated; use tool_calls`);
  }
  return [...thinking, ...text, ...calls];
}

function toolResultBlock(message: ChatMessage, index: number, warnings: RequestWarning[]): ToolResultBlock {
  const block: ToolResultBlock = { type: 'tool_result', tool_use_id: anthropicToolCallId(message.tool_call_id ?? '') };
  if (typeof message.content === 'string') {
    if (message.content.trim().length > 0) block.content = message.content;
    return block;
  }
  const blocks = userContentBlocks(message.content, `messages[${index}].content`, warnings);
  if (blocks.length > 0) block.content = blocks;
  return block;
}

function blocksFor(message: ChatMessage, index: number, system: TextBlock[], warnings: RequestWarning[]): { role: 'user' | 'assistant'; blocks: ContentBlock[] } | null {
  switch (message.role) {
    case 'system':
    case 'developer':
      system.push(...textContentBlocks(message.content, `messages[${index}].content`, warnings));
      return null;
    case 'user':
      return { role: 'user', blocks: userContentBlocks(message.content, `messages[${index}].content`, warnings) };
    case 'assistant':
      return { role: 'assistant', blocks: assistantBlocks(message, index, warnings) };
    case 'tool':
      return { role: 'user', blocks: [toolResultBlock(message, index, warnings)] };
    default:
      warn(warnings, `messages[${index}]`, `messages[${index}] dropped: role '${message.role}' is not translated; use tool messages`);
      return null;
  }
}

function toolUseIds(turn: AnthropicMessage | undefined): string[] {
  if (!turn || turn.role !== 'assistant') return [];
  return turn.content.filter((block): block is ToolUseBlock => block.type === 'tool_use').map((block) => block.id);
}

function orphanAsBlocks(block: ToolResultBlock): ContentBlock[] {
  const heading = `Result of tool call ${block.tool_use_id}:`;
  if (block.content === undefined) return [{ type: 'text', text: `${heading} (empty)` }];
  if (typeof block.content === 'string') return [{ type: 'text', text: `${heading}\n${block.content}` }];
  return [{ type: 'text', text: heading }, ...block.content];
}

/** Makes every tool_result answer a tool_use of the turn before, and every tool_use get an answer. */
function repairToolPairs(turns: AnthropicMessage[], warnings: RequestWarning[]): void {
  for (let index = 0; index < turns.length; index++) {
    const turn = turns[index]!;
    if (turn.role !== 'user') continue;
    const calls = new Set(toolUseIds(turns[index - 1]));
    const answered = new Set<string>();
    turn.content = turn.content.flatMap((block) => {
      if (block.type !== 'tool_result') return [block];
      if (calls.has(block.tool_use_id) && !answered.has(block.tool_use_id)) {
        answered.add(block.tool_use_id);
        return [block];
      }
      warn(warnings, 'messages', `the tool result for '${block.tool_use_id}' does not answer a tool call of the assistant turn before it; sent as text`, 'other');
      return orphanAsBlocks(block);
    });
  }
  for (let index = 0; index < turns.length - 1; index++) {
    const ids = toolUseIds(turns[index]);
    if (ids.length === 0) continue;
    const next = turns[index + 1]!;
    const answered = new Set(next.content.filter((block): block is ToolResultBlock => block.type === 'tool_result').map((block) => block.tool_use_id));
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length === 0) continue;
    warn(warnings, 'messages', `tool call(s) ${missing.join(', ')} had no tool message answering them; sent with an error result`, 'other');
    next.content.unshift(...missing.map((id): ToolResultBlock => ({ type: 'tool_result', tool_use_id: id, content: MISSING_TOOL_RESULT_TEXT, is_error: true })));
  }
}

export function convertMessages(messages: ChatMessage[], warnings: RequestWarning[]): ConvertedMessages {
  const system: TextBlock[] = [];
  const turns: AnthropicMessage[] = [];
  messages.forEach((message, index) => {
    const converted = blocksFor(message, index, system, warnings);
    if (!converted || converted.blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === converted.role) last.content.push(...converted.blocks);
    else turns.push({ role: converted.role, content: converted.blocks });
  });

  repairToolPairs(turns, warnings);
  for (const turn of turns) {
    if (turn.role !== 'user') continue;
    // Anthropic wants a turn's tool results before anything else in it.
    const results = turn.content.filter((block) => block.type === 'tool_result');
    if (results.length > 0) turn.content = [...results, ...turn.content.filter((block) => block.type !== 'tool_result')];
  }

  if (turns.length === 0 || turns[0]!.role !== 'user') {
    warn(warnings, 'messages', `the conversation does not start with a user message, which Anthropic requires; a placeholder user turn ("${PLACEHOLDER_USER_TEXT}") was added`, 'other');
    turns.unshift({ role: 'user', content: [{ type: 'text', text: PLACEHOLDER_USER_TEXT }] });
  }

  // A final assistant turn is a prefill, and Anthropic rejects one ending in whitespace.
  const last = turns[turns.length - 1]!;
  if (last.role === 'assistant') {
    const final = last.content[last.content.length - 1];
    if (final?.type === 'text') {
      final.text = final.text.trimEnd();
      if (final.text.length === 0) last.content.pop();
    }
    if (last.content.length === 0) turns.pop();
  }
  return { system, messages: turns };
}
