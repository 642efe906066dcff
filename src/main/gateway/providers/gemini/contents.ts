/**
 * OpenAI chat messages → Gemini `systemInstruction` and `contents`.
 *
 * - `system` and `developer` messages, wherever they stand, become the one systemInstruction.
 * - user → `user`, assistant → `model`; tool (and legacy function) results → `user` turns of
 *   `functionResponse` parts, the function name recovered from the assistant tool call they
 *   answer. Consecutive turns of one role are merged (so parallel tool results share one
 *   turn), empty text is dropped, and turns left without parts are dropped.
 * - Images: `data:` URLs become `inlineData`. http(s) URLs are refused with a 400: fetching
 *   client-supplied URLs from a gateway that runs on the user's machine would let any caller
 *   make it request internal addresses (SSRF), so the client is asked to inline the image.
 * - Tool results go under `response.output` (Google's convention); a result that is a JSON
 *   object or array is sent parsed, anything else as the string.
 */
import { invalidRequest } from '../../errors.js';
import type { ChatMessage, ContentPart } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import { isSyntheticToolCallId, signatureFrom } from './tool-calls.js';
import type { GeminiContent, GeminiPart } from './wire-types.js';

interface KnownCall {
  name: string;
  /** The id to send to Gemini, when it is one Gemini issued (or a client-chosen one). */
  geminiId?: string;
}

export interface ConvertedMessages {
  systemInstruction?: GeminiContent;
  contents: GeminiContent[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a `data:` URL into mime type and base64 data, or null when it is not one. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | null {
  const match = /^data:([^,]*),(.*)$/s.exec(url);
  if (!match) return null;
  const meta = match[1]!.split(';').map((item) => item.trim());
  const mimeType = meta[0]!.toLowerCase();
  const base64 = meta.slice(1).some((item) => item.toLowerCase() === 'base64');
  const payload = match[2]!;
  const data = base64 ? payload.replace(/\s+/g, '') : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { mimeType, data };
}

function inlineFromDataUrl(url: string, param: string, what: string): GeminiPart {
  const parsed = parseDataUrl(url);
  if (!parsed) throw invalidRequest(`'${param}': ${what} must be a data: URL.`, param, 'invalid_value');
  if (parsed.mimeType.length === 0) {
    throw invalidRequest(`'${param}': the data: URL has no media type; Gemini needs one (data:image/png;base64,…).`, param, 'invalid_value');
  }
  if (parsed.data.length === 0) throw invalidRequest(`'${param}': the data: URL holds no data.`, param, 'invalid_value');
  return { inlineData: { mimeType: parsed.mimeType, data: parsed.data } };
}

function imagePart(part: Record<string, unknown>, param: string): GeminiPart {
  const imageUrl = part.image_url;
  const url = isObject(imageUrl) && typeof imageUrl.url === 'string' ? imageUrl.url : typeof imageUrl === 'string' ? imageUrl : '';
  if (/^https?:/i.test(url)) {
    throw invalidRequest(
      `'${param}': image URLs cannot be passed to Gemini models, and Switchyard does not download them (a gateway fetching URLs chosen by its callers is a server-side request forgery risk). Send the image inline as a data: URL instead (data:image/png;base64,…).`,
      param,
      'image_url_not_supported',
    );
  }
  if (!url.startsWith('data:')) throw invalidRequest(`'${param}': image_url.url must be a data: URL for Gemini models.`, param, 'invalid_value');
  return inlineFromDataUrl(url, param, 'image_url.url');
}

function audioPart(part: Record<string, unknown>, param: string): GeminiPart {
  const audio = part.input_audio;
  if (!isObject(audio) || typeof audio.data !== 'string' || audio.data.length === 0 || typeof audio.format !== 'string') {
    throw invalidRequest(`'${param}': input_audio needs 'data' (base64) and 'format'.`, param, 'invalid_value');
  }
  return { inlineData: { mimeType: `audio/${audio.format.toLowerCase()}`, data: audio.data } };
}

function filePart(part: Record<string, unknown>, param: string): GeminiPart {
  const file = part.file;
  if (isObject(file) && typeof file.file_data === 'string') {
    return file.file_data.startsWith('data:') ? inlineFromDataUrl(file.file_data, param, 'file.file_data') : { inlineData: { mimeType: 'application/pdf', data: file.file_data } };
  }
  throw invalidRequest(`'${param}': Gemini models take files inline only (file.file_data as a data: URL); uploaded file ids cannot be used.`, param, 'invalid_value');
}

/** One user content part → Gemini parts (none for empty text). */
function userPart(part: ContentPart, param: string): GeminiPart | null {
  const record = part as Record<string, unknown>;
  switch (part.type) {
    case 'text':
      return typeof record.text === 'string' && record.text.length > 0 ? { text: record.text } : null;
    case 'image_url':
      return imagePart(record, param);
    case 'input_audio':
      return audioPart(record, param);
    case 'file':
      return filePart(record, param);
    default:
      throw invalidRequest(`'${param}': content parts of type '${part.type}' cannot be sent to Gemini.`, param, 'invalid_value');
  }
}

/** The text of a message whose content may only be text (system, developer, assistant, tool). */
function textOf(message: ChatMessage, index: number): string {
  const content = message.content;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (let part = 0; part < content.length; part++) {
    const item = content[part]! as Record<string, unknown> & { type: string };
    if (item.type === 'text' && typeof item.text === 'string') text += item.text;
    else if (item.type === 'refusal' && typeof item.refusal === 'string') text += item.refusal;
    else {
      const param = `messages[${index}].content[${part}]`;
      throw invalidRequest(`'${param}': a ${message.role} message can only hold text for Gemini, got a '${item.type}' part.`, param, 'invalid_value');
    }
  }
  return text;
}

function parseArguments(raw: unknown, param: string): Record<string, unknown> {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return {};
  if (isObject(raw)) return raw;
  if (typeof raw === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalidRequest(`'${param}' is not valid JSON; Gemini needs the call's arguments as a JSON object.`, param, 'invalid_value');
    }
    if (isObject(parsed)) return parsed;
  }
  throw invalidRequest(`'${param}' must be a JSON object; Gemini takes function arguments as an object.`, param, 'invalid_value');
}

function toolResponse(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { output: JSON.parse(trimmed) as unknown };
    } catch {
      // Not JSON after all: sent as the text it is.
    }
  }
  return { output: text };
}

function push(contents: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

export function convertMessages(messages: ChatMessage[], warnings: RequestWarning[]): ConvertedMessages {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const calls = new Map<string, KnownCall>();
  /** Legacy function-role results carry no id: they answer the latest call of their name. */
  const latestByName = new Map<string, KnownCall>();

  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!;
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message, index);
        if (text.length > 0) system.push({ text });
        break;
      }
      case 'user': {
        const content = message.content;
        if (typeof content === 'string') {
          push(contents, 'user', content.length > 0 ? [{ text: content }] : []);
        } else if (Array.isArray(content)) {
          const parts: GeminiPart[] = [];
          for (let part = 0; part < content.length; part++) {
            const converted = userPart(content[part]!, `messages[${index}].content[${part}]`);
            if (converted) parts.push(converted);
          }
          push(contents, 'user', parts);
        }
        break;
      }
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text = textOf(message, index);
        if (text.length > 0) {
          const part: GeminiPart = { text };
          const signature = signatureFrom(message);
          if (signature) part.thoughtSignature = signature;
          parts.push(part);
        }
        const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
        for (let position = 0; position < toolCalls.length; position++) {
          const call = toolCalls[position]!;
          const param = `messages[${index}].tool_calls[${position}].function.arguments`;
          const known: KnownCall = { name: call.function.name };
          if (!isSyntheticToolCallId(call.id)) known.geminiId = call.id;
          calls.set(call.id, known);
          latestByName.set(known.name, known);
          const part: GeminiPart = { functionCall: { name: call.function.name, args: parseArguments(call.function.arguments, param) } };
          if (known.geminiId) part.functionCall!.id = known.geminiId;
          const signature = signatureFrom(call);
          if (signature) part.thoughtSignature = signature;
          parts.push(part);
        }
        push(contents, 'model', parts);
        break;
      }
      case 'tool': {
        const id = message.tool_call_id ?? '';
        const known = calls.get(id);
        if (!known) {
          const param = `messages[${index}].tool_call_id`;
          throw invalidRequest(
            `'${param}' is '${id}', which matches no tool call of an earlier assistant message; Gemini needs the function's name, which is taken from that call.`,
            param,
            'invalid_value',
          );
        }
        const response: GeminiPart = { functionResponse: { name: known.name, response: toolResponse(textOf(message, index)) } };
        if (known.geminiId) response.functionResponse!.id = known.geminiId;
        push(contents, 'user', [response]);
        break;
      }
      case 'function': {
        if (typeof message.name !== 'string' || message.name.length === 0) {
          throw invalidRequest(`'messages[${index}].name' is required for function messages.`, `messages[${index}].name`, 'missing_required_parameter');
        }
        const response: GeminiPart = { functionResponse: { name: message.name, response: toolResponse(textOf(message, index)) } };
        const geminiId = latestByName.get(message.name)?.geminiId;
        if (geminiId) response.functionResponse!.id = geminiId;
        push(contents, 'user', [response]);
        break;
      }
    }
  }

  if (contents.length === 0 && system.length > 0) {
    // Gemini needs at least one turn; a request of instructions alone is answered as OpenAI would.
    warnings.push({ type: 'other', parameter: 'messages', message: 'no user or assistant messages: the system text was sent as the user turn' });
    return { contents: [{ role: 'user', parts: system }] };
  }
  if (contents.length === 0) {
    throw invalidRequest("'messages' must contain at least one non-empty user or assistant message for Gemini models.", 'messages', 'invalid_value');
  }
  return system.length > 0 ? { systemInstruction: { parts: system }, contents } : { contents };
}
