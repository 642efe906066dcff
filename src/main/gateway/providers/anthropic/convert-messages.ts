/**
 * The core request's instructions and messages → Anthropic `system` plus alternating
 * user/assistant turns.
 *
 * - `system` parts and `system` messages, wherever they are, become the top-level `system` blocks, in order.
 * - Tool results become `tool_result` blocks in a user turn; consecutive same-role turns are merged,
 *   so parallel tool results (and any user text after them) form ONE user turn, results first.
 * - Empty text is dropped; a turn left with nothing is dropped, and its neighbours merge.
 * - An assistant turn's parts keep their order. Reasoning signed by Anthropic (provider data
 *   `{signature}`, or `{data}` when redacted) is replayed as thinking / redacted_thinking
 *   blocks with the signature and data untouched; reasoning without it cannot be replayed and
 *   is dropped with a warning. Anthropic-native parts (server tool use and results) pass as
 *   they came.
 * - Tool-call ids are rewritten where Anthropic's id rules demand it (tool-call-id.ts).
 * - What Anthropic would reject in a well-meant history is repaired with a warning: a tool call
 *   nobody answered gets an error result, a result without its call becomes text, a conversation
 *   that does not start with a user turn gets a placeholder one.
 *
 * Warnings name messages as the OpenAI chat form of the request numbers them (each `system`
 * part and each tool result one message), which for an OpenAI client is its own request.
 */
import type { AssistantPart, CoreRequest, ToolResultPart } from '../../../core/types.js';
import type { RequestWarning } from '../../types.js';
import { textBlock, userContentBlocks, wireCacheControl } from './convert-content.js';
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

/** A thinking block as the client gave it (`thinking_blocks` entry) → the block to replay, or null. */
function thinkingFrom(source: unknown): ThinkingBlock | RedactedThinkingBlock | null {
  if (isRecord(source) && source.type === 'thinking' && typeof source.thinking === 'string' && typeof source.signature === 'string' && source.signature.length > 0) {
    return { type: 'thinking', thinking: source.thinking, signature: source.signature };
  }
  if (isRecord(source) && source.type === 'redacted_thinking' && typeof source.data === 'string' && source.data.length > 0) {
    return { type: 'redacted_thinking', data: source.data };
  }
  return null;
}

function toolInput(args: string, param: string, warnings: RequestWarning[]): Record<string, unknown> {
  if (args.trim().length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed)) return parsed;
  } catch {
    // fall through
  }
  warn(warnings, param, `${param} is not a JSON object; sent to Anthropic as {}`, 'other');
  return {};
}

function assistantBlocks(parts: readonly AssistantPart[], index: number, warnings: RequestWarning[]): ContentBlock[] {
  const param = `messages[${index}]`;
  const blocks: ContentBlock[] = [];
  // Numbered as the OpenAI form writes them: thinking blocks in `thinking_blocks`, text then
  // OpenAI-native parts in `content`, calls in `tool_calls`.
  const textCount = parts.filter((part) => part.type === 'text' && !(part.text === '' && part.providerData !== undefined)).length;
  let thinkingIndex = 0;
  let replayed = 0;
  let openAIIndex = 0;
  let callIndex = 0;
  let reasoningText = '';
  const replay = (source: unknown): void => {
    const block = thinkingFrom(source);
    if (block) {
      blocks.push(block);
      replayed++;
    } else {
      const where = `${param}.thinking_blocks[${thinkingIndex}]`;
      warn(warnings, where, `${where} dropped: only {type:"thinking",thinking,signature} and {type:"redacted_thinking",data} blocks can be replayed to Anthropic`);
    }
    thinkingIndex++;
  };
  for (const part of parts) {
    switch (part.type) {
      case 'reasoning':
        if (!part.redacted) reasoningText += part.text;
        // Signed by Anthropic: replayed with its signature (or redacted data) exactly as received.
        if (part.providerData?.family === 'anthropic') replay(part.redacted ? { type: 'redacted_thinking', ...part.providerData.data } : { type: 'thinking', thinking: part.text, ...part.providerData.data });
        break;
      case 'text': {
        if (part.text === '' && part.providerData !== undefined) break;
        const block = textBlock(part.text, wireCacheControl(part.cacheControl));
        if (block) blocks.push(block);
        break;
      }
      case 'tool-call':
        if (part.id === '') {
          warn(warnings, `${param}.function_call`, `${param}.function_call dropped: the legacy function-call format is not translated; use tool_calls`);
          break;
        }
        blocks.push({ type: 'tool_use', id: anthropicToolCallId(part.id), name: part.name, input: toolInput(part.input, `${param}.tool_calls[${callIndex}].function.arguments`, warnings) });
        callIndex++;
        break;
      case 'native':
        if (part.family === 'anthropic' && part.kind === 'thinking_block') replay(part.value);
        else if (part.family === 'anthropic') blocks.push(part.value as ContentBlock);
        else {
          const where = `${param}.content[${textCount + openAIIndex++}]`;
          warn(warnings, where, `${where} dropped: only text parts are accepted here`);
        }
        break;
      case 'refusal':
        // A refusal the model gave is not history Anthropic can take back.
        break;
    }
  }
  if (replayed === 0 && reasoningText.length > 0) {
    warn(warnings, `${param}.reasoning_content`, `${param}.reasoning_content dropped: reasoning without its Anthropic thinking_blocks (and their signatures) cannot be replayed`);
  }
  return blocks;
}

function toolResultBlock(part: ToolResultPart, index: number, warnings: RequestWarning[]): ToolResultBlock {
  const block: ToolResultBlock = { type: 'tool_result', tool_use_id: anthropicToolCallId(part.callId) };
  if (typeof part.content === 'string') {
    if (part.content.trim().length > 0) block.content = part.content;
  } else {
    const blocks = userContentBlocks(part.content, `messages[${index}].content`, warnings);
    if (blocks.length > 0) block.content = blocks;
  }
  if (part.isError === true) block.is_error = true;
  const cacheControl = wireCacheControl(part.cacheControl);
  if (cacheControl) block.cache_control = cacheControl;
  return block;
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

export function convertMessages(core: CoreRequest, warnings: RequestWarning[]): ConvertedMessages {
  const system: TextBlock[] = [];
  const turns: AnthropicMessage[] = [];
  const add = (role: 'user' | 'assistant', blocks: ContentBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  const instructions = (parts: CoreRequest['system']): void => {
    for (const part of parts) {
      const block = textBlock(part.text, wireCacheControl(part.cacheControl));
      if (block) system.push(block);
    }
  };
  let index = 0;
  for (const part of core.system) {
    instructions([part]);
    index++;
  }
  for (const message of core.messages) {
    switch (message.role) {
      case 'system':
        instructions(message.content);
        index++;
        break;
      case 'user':
        add('user', userContentBlocks(message.content, `messages[${index}].content`, warnings));
        index++;
        break;
      case 'assistant':
        add('assistant', assistantBlocks(message.content, index, warnings));
        index++;
        break;
      case 'tool':
        for (const result of message.content) {
          // A legacy `function` message (no call id) has no Anthropic form.
          if (result.callId === '') warn(warnings, `messages[${index}]`, `messages[${index}] dropped: role 'function' is not translated; use tool messages`);
          else add('user', [toolResultBlock(result, index, warnings)]);
          index++;
        }
        break;
    }
  }

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
