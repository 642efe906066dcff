/**
 * Core messages → Gemini `systemInstruction` and `contents`.
 *
 * - The leading system text and `system` messages, wherever they stand, become the one
 *   systemInstruction (one text part per non-empty core text part).
 * - user → `user`, assistant → `model` (its text and refusal parts as one text part, signed
 *   with the thought signature its text carries; reasoning is not sent back: Gemini keeps its
 *   own state in the signatures); tool results → `user` turns of `functionResponse` parts, the
 *   function name recovered from the assistant tool call they answer (or the name the result
 *   carries, for a legacy function result with no call id). Consecutive turns of one role are
 *   merged (so parallel tool results share one turn), empty text is dropped, and turns left
 *   without parts are dropped.
 * - Images: `data:` URLs become `inlineData`. http(s) URLs are refused with a 400: fetching
 *   client-supplied URLs from a gateway that runs on the user's machine would let any caller
 *   make it request internal addresses (SSRF), so the client is asked to inline the image.
 * - Tool results go under `response.output` (Google's convention); a result that is a JSON
 *   object or array is sent parsed, anything else as the string.
 */
import { invalidRequest } from '../../errors.js';
import type { AssistantPart, AudioPart, CoreMessage, FilePart, ImagePart, TextPart, ToolResultPart, UserPart } from '../../../core/types.js';
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

/** An image URL (http(s) refused, data: URLs inlined). */
function imageFromUrl(url: string, param: string): GeminiPart {
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

/** Base64 data as the data: URL it came from, so it is checked and normalised as one. */
function base64Url(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

function imagePart(part: ImagePart, param: string): GeminiPart {
  const source = part.source;
  if (source.kind === 'base64') return inlineFromDataUrl(base64Url(source.mediaType, source.data), param, 'image_url.url');
  if (source.kind === 'url') return imageFromUrl(source.url, param);
  throw invalidRequest(`'${param}': Gemini models take images inline only (a data: URL); uploaded file ids cannot be used.`, param, 'invalid_value');
}

function audioPart(part: AudioPart, param: string): GeminiPart {
  if (part.data.length === 0 || typeof part.format !== 'string') {
    throw invalidRequest(`'${param}': input_audio needs 'data' (base64) and 'format'.`, param, 'invalid_value');
  }
  return { inlineData: { mimeType: `audio/${part.format.toLowerCase()}`, data: part.data } };
}

function filePart(part: FilePart, param: string): GeminiPart {
  const source = part.source;
  if (source.kind === 'base64') return inlineFromDataUrl(base64Url(source.mediaType, source.data), param, 'file.file_data');
  // A file_data that is not a base64 data: URL: another data: URL, or bare base64 (a PDF, as OpenAI reads it).
  if (source.kind === 'url') return source.url.startsWith('data:') ? inlineFromDataUrl(source.url, param, 'file.file_data') : { inlineData: { mimeType: 'application/pdf', data: source.url } };
  if (source.kind === 'text') return { text: source.text };
  throw invalidRequest(`'${param}': Gemini models take files inline only (file.file_data as a data: URL); uploaded file ids cannot be used.`, param, 'invalid_value');
}

/** One user content part → a Gemini part (none for empty text). */
function userPart(part: UserPart, param: string): GeminiPart | null {
  switch (part.type) {
    case 'text':
      return part.text.length > 0 ? { text: part.text } : null;
    case 'image':
      return imagePart(part, param);
    case 'audio':
      return audioPart(part, param);
    case 'file':
      return filePart(part, param);
    case 'native': {
      // A client part kept whole (extra keys on a text part): its text is still text.
      const value = part.value as { type?: unknown; text?: unknown } | null;
      if (part.family === 'openai' && isObject(value) && value.type === 'text' && typeof value.text === 'string') return value.text.length > 0 ? { text: value.text } : null;
      throw invalidRequest(`'${param}': content parts of type '${part.kind}' cannot be sent to Gemini.`, param, 'invalid_value');
    }
  }
}

/** The text of a tool result (only text can be sent to Gemini as a function response). */
function resultText(part: ToolResultPart, param: string, role: string): string {
  if (typeof part.content === 'string') return part.content;
  let text = '';
  for (let position = 0; position < part.content.length; position++) {
    const item = part.content[position]!;
    if (item.type === 'text') text += item.text;
    else {
      const itemParam = `${param}[${position}]`;
      const kind = item.type === 'image' ? 'image_url' : item.type;
      throw invalidRequest(`'${itemParam}': a ${role} message can only hold text for Gemini, got a '${kind}' part.`, itemParam, 'invalid_value');
    }
  }
  return text;
}

function parseArguments(raw: string, param: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidRequest(`'${param}' is not valid JSON; Gemini needs the call's arguments as a JSON object.`, param, 'invalid_value');
  }
  if (isObject(parsed)) return parsed;
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

function systemParts(parts: TextPart[], into: GeminiPart[]): void {
  for (const part of parts) if (part.text.length > 0) into.push({ text: part.text });
}

/** An assistant turn → `model` parts: its text as one part (signed when its text was), then its function calls. */
function modelParts(content: AssistantPart[], param: string, calls: Map<string, KnownCall>, latestByName: Map<string, KnownCall>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  let text = '';
  let signature: string | undefined;
  for (const part of content) {
    if (part.type === 'text') {
      text += part.text;
      signature = signatureFrom(part.providerData) ?? signature;
    } else if (part.type === 'refusal') {
      text += part.text;
    } else if (part.type === 'native' && part.family === 'openai') {
      throw invalidRequest(`'${param}.content': an assistant message can only hold text for Gemini, got a '${part.kind}' part.`, `${param}.content`, 'invalid_value');
    }
    // Reasoning (and other families' state) is not sent back: Gemini's own rides in signatures.
  }
  if (text.length > 0) {
    const part: GeminiPart = { text };
    if (signature) part.thoughtSignature = signature;
    parts.push(part);
  }
  let position = 0;
  for (const call of content) {
    if (call.type !== 'tool-call') continue;
    const argumentsParam = `${param}.tool_calls[${position++}].function.arguments`;
    const known: KnownCall = { name: call.name };
    if (call.id.length > 0 && !isSyntheticToolCallId(call.id)) known.geminiId = call.id;
    if (call.id.length > 0) calls.set(call.id, known);
    latestByName.set(known.name, known);
    const part: GeminiPart = { functionCall: { name: call.name, args: parseArguments(call.input, argumentsParam) } };
    if (known.geminiId) part.functionCall!.id = known.geminiId;
    const callSignature = signatureFrom(call.providerData);
    if (callSignature) part.thoughtSignature = callSignature;
    parts.push(part);
  }
  return parts;
}

/**
 * Converts the core's instructions and messages. `offset` is the number of client messages
 * before the core's first message (the leading instructions), so errors name the client's
 * own `messages[i]`.
 */
export function convertMessages(system: TextPart[], messages: CoreMessage[], warnings: RequestWarning[], offset = 0): ConvertedMessages {
  const instructions: GeminiPart[] = [];
  systemParts(system, instructions);
  const contents: GeminiContent[] = [];
  const calls = new Map<string, KnownCall>();
  /** Legacy function results carry no id: they answer the latest call of their name. */
  const latestByName = new Map<string, KnownCall>();

  for (let position = 0; position < messages.length; position++) {
    const message = messages[position]!;
    const index = position + offset;
    switch (message.role) {
      case 'system':
        systemParts(message.content, instructions);
        break;
      case 'user': {
        const parts: GeminiPart[] = [];
        for (let part = 0; part < message.content.length; part++) {
          const converted = userPart(message.content[part]!, `messages[${index}].content[${part}]`);
          if (converted) parts.push(converted);
        }
        push(contents, 'user', parts);
        break;
      }
      case 'assistant':
        push(contents, 'model', modelParts(message.content, `messages[${index}]`, calls, latestByName));
        break;
      case 'tool': {
        const parts: GeminiPart[] = [];
        for (const result of message.content) {
          const legacy = result.callId.length === 0 && result.name !== undefined;
          let name: string;
          let geminiId: string | undefined;
          if (legacy) {
            if (result.name!.length === 0) {
              throw invalidRequest(`'messages[${index}].name' is required for function messages.`, `messages[${index}].name`, 'missing_required_parameter');
            }
            name = result.name!;
            geminiId = latestByName.get(name)?.geminiId;
          } else {
            const known = calls.get(result.callId);
            if (!known && !result.name) {
              const param = `messages[${index}].tool_call_id`;
              throw invalidRequest(
                `'${param}' is '${result.callId}', which matches no tool call of an earlier assistant message; Gemini needs the function's name, which is taken from that call.`,
                param,
                'invalid_value',
              );
            }
            name = known?.name ?? result.name!;
            geminiId = known ? known.geminiId : result.callId.length > 0 && !isSyntheticToolCallId(result.callId) ? result.callId : undefined;
          }
          const response: GeminiPart = { functionResponse: { name, response: toolResponse(resultText(result, `messages[${index}].content`, legacy ? 'function' : 'tool')) } };
          if (geminiId) response.functionResponse!.id = geminiId;
          parts.push(response);
        }
        push(contents, 'user', parts);
        break;
      }
    }
  }

  if (contents.length === 0 && instructions.length > 0) {
    // Gemini needs at least one turn; a request of instructions alone is answered as OpenAI would.
    warnings.push({ type: 'other', parameter: 'messages', message: 'no user or assistant messages: the system text was sent as the user turn' });
    return { contents: [{ role: 'user', parts: instructions }] };
  }
  if (contents.length === 0) {
    throw invalidRequest("'messages' must contain at least one non-empty user or assistant message for Gemini models.", 'messages', 'invalid_value');
  }
  return instructions.length > 0 ? { systemInstruction: { parts: instructions }, contents } : { contents };
}
