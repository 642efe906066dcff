/**
 * Groups the turns of one chat: every turn of a multi-turn conversation resends the same
 * opening (system prompt and first user message), so a hash of that opening is stable
 * from turn 1 to turn n. An explicit id always wins: `x-conversation-id`, or a client's own
 * session header (Claude Code's, Codex's; see CONVERSATION_HEADERS).
 *
 * Limitation: two separate chats that open with exactly the same system prompt and first
 * user message (and scope) share an id. Passing a `scope` (e.g. gateway key and user)
 * keeps different clients apart.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from './content-addressing.js';

export interface ConversationIdInput {
  /** The value of the `x-conversation-id` header, if the client sent one. */
  explicitId?: string | null;
  /** The request body: chat-completions (`messages` with system/developer roles), Anthropic (`system` + `messages`) or Responses (`instructions` + `input`). */
  body: unknown;
  /** Anything that should separate otherwise identical openings, such as the gateway key id and user. */
  scope?: string | null;
  /** The endpoint the body came to: a `/v1/responses` body is read from `input` (an embeddings body has one too, and no conversation). */
  endpoint?: string;
}

const MAXIMUM_EXPLICIT_ID_LENGTH = 200;

/**
 * Headers that name a client's conversation or session, in order of preference: Switchyard's
 * own, Claude Code's session, Codex's session (`session-id` since 0.16x; `session_id` and
 * `conversation_id` before). Every turn of one Codex session carries the same one, so they are
 * one conversation in the log even when the opening changes (a compacted history, a new window).
 */
export const CONVERSATION_HEADERS = ['x-conversation-id', 'x-claude-code-session-id', 'session-id', 'session_id', 'conversation_id'] as const;

/** The conversation a request's headers name, if any (at most 200 characters). */
export function conversationIdFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
  for (const name of CONVERSATION_HEADERS) {
    const value = headers[name];
    const text = typeof value === 'string' ? value.trim() : '';
    if (text.length > 0) return text.slice(0, MAXIMUM_EXPLICIT_ID_LENGTH);
  }
  return null;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text content compared by its canonical JSON, so `"hi"` and `[{type:'text',text:'hi'}]` differ but key order does not matter. */
function contentKey(content: unknown): string {
  if (Array.isArray(content) && content.every((part) => isRecord(part) && part.type === 'text' && typeof part.text === 'string')) {
    return JSON.stringify(content.map((part) => (part as { text: string }).text).join(''));
  }
  return canonicalJson(content ?? null);
}

/**
 * The conversation id for a request: the explicit id when given (trimmed, at most 200
 * characters), else `c_` + 24 hex characters of SHA-256 over the scope, the system
 * prompt(s) and the first user message. Null when the body has no user message.
 */
export function deriveConversationId(input: ConversationIdInput): string | null {
  const explicit = input.explicitId?.trim();
  if (explicit) return explicit.slice(0, MAXIMUM_EXPLICIT_ID_LENGTH);
  const body = input.body;
  if (!isRecord(body)) return null;
  // Chat and Messages bodies have `messages`; a Responses body has `input` (items, or one user message as a string) and `instructions`.
  const responses = input.endpoint === '/v1/responses';
  const messages = Array.isArray(body.messages) ? body.messages : !responses ? null : Array.isArray(body.input) ? body.input : typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : null;
  if (!messages) return null;
  const systemParts: string[] = [];
  const system = responses ? body.instructions : body.system;
  if (system !== undefined && system !== null) systemParts.push(contentKey(system));
  let firstUser: string | null = null;
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const role = message.role;
    if (typeof role === 'string' && SYSTEM_ROLES.has(role)) {
      systemParts.push(contentKey(message.content));
    } else if (role === 'user') {
      firstUser = contentKey(message.content);
      break;
    }
  }
  if (firstUser === null) return null;
  let text = `scope:${input.scope ?? ''}\n`;
  for (const part of systemParts) text += `system:${part}\n`;
  text += `user:${firstUser}\n`;
  return `c_${hash('sha256', text, 'hex').slice(0, 24)}`;
}
