/**
 * Groups the turns of one chat: every turn of a multi-turn conversation resends the same
 * opening (system prompt and first user message), so a hash of that opening is stable
 * from turn 1 to turn n. An explicit `x-conversation-id` always wins.
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
  /** The chat request body: chat-completions (`messages` with system/developer roles) or Anthropic (`system` + `messages`). */
  body: unknown;
  /** Anything that should separate otherwise identical openings, such as the gateway key id and user. */
  scope?: string | null;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);
const MAXIMUM_EXPLICIT_ID_LENGTH = 200;

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
  if (!isRecord(body) || !Array.isArray(body.messages)) return null;
  const systemParts: string[] = [];
  if (body.system !== undefined && body.system !== null) systemParts.push(contentKey(body.system));
  let firstUser: string | null = null;
  for (const message of body.messages) {
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
