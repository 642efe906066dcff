/**
 * Core user content parts → Anthropic content blocks: text (empty and whitespace-only text is
 * dropped, because Anthropic rejects such blocks), images (base64 and `data:` sources become
 * base64 sources with the type sniffed from the bytes, http(s) URLs become url sources), PDF
 * and plain-text files (document blocks). Anthropic-family native parts (search results,
 * documents with citations …) pass through unchanged; OpenAI-family native parts (a part
 * with fields the core has no name for) are read as OpenAI parts, as the OpenAI-pivot
 * adapter did; anything else is dropped with a warning. `cache_control` on a part is carried
 * over, the convention other gateways use for Anthropic prompt caching through the OpenAI API.
 *
 * Warnings name the part as `<param>[<index>]`, the index of the part in its message.
 */
import type { CacheControl as CoreCacheControl, FilePart, UserPart } from '../../../core/types.js';
import { invalidRequest } from '../../errors.js';
import type { RequestWarning } from '../../types.js';
import type { CacheControl, DocumentBlock, ImageBlock, TextBlock } from './wire-types.js';
import { mediaUrl } from '../../../core/media.js';

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function cacheControlOf(part: unknown): CacheControl | undefined {
  if (!isRecord(part) || !isRecord(part.cache_control) || part.cache_control.type !== 'ephemeral') return undefined;
  const ttl = part.cache_control.ttl;
  return ttl === '5m' || ttl === '1h' ? { type: 'ephemeral', ttl } : { type: 'ephemeral' };
}

/** A core cache breakpoint as the wire's (a fresh object: the core request is never shared with the body). */
export function wireCacheControl(cacheControl: CoreCacheControl | undefined): CacheControl | undefined {
  if (!cacheControl) return undefined;
  return cacheControl.ttl ? { type: 'ephemeral', ttl: cacheControl.ttl } : { type: 'ephemeral' };
}


/** A text block, or null when the text is empty or only whitespace. */
export function textBlock(text: string, cacheControl?: CacheControl): TextBlock | null {
  if (text.trim().length === 0) return null;
  return cacheControl ? { type: 'text', text, cache_control: cacheControl } : { type: 'text', text };
}

interface DataUrl {
  mediaType: string;
  base64: string;
}

/** Parses `data:[<type>][;base64],<data>`, returning standard padded base64 either way. */
export function parseDataUrl(url: string): DataUrl | null {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) return null;
  const mediaType = (match[1] || 'text/plain').trim().toLowerCase();
  const isBase64 = match[2]!.split(';').some((parameter) => parameter.trim().toLowerCase() === 'base64');
  let data = match[3]!;
  if (isBase64) {
    // Tolerate line breaks, base64url and missing padding from hand-built URLs.
    data = data.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    data += '='.repeat((4 - (data.length % 4)) % 4);
  } else {
    let text: string;
    try {
      text = decodeURIComponent(data);
    } catch {
      text = data;
    }
    data = Buffer.from(text, 'utf8').toString('base64');
  }
  return { mediaType, base64: data };
}

/** The image type from the first bytes; clients often label a JPEG `image/png`, which Anthropic rejects. */
export function sniffImageType(base64: string): string | null {
  const head = Buffer.from(base64.slice(0, 24), 'base64');
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  const ascii = head.toString('latin1');
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return 'image/gif';
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

export function imageBlock(url: string, param: string, cacheControl?: CacheControl): ImageBlock {
  let block: ImageBlock;
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url);
    if (!parsed || parsed.base64.length === 0) throw invalidRequest(`'${param}' is not a valid data URL.`, param, 'invalid_image_url');
    const declared = parsed.mediaType === 'image/jpg' ? 'image/jpeg' : parsed.mediaType;
    const mediaType = sniffImageType(parsed.base64) ?? declared;
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw invalidRequest(`'${param}': Anthropic accepts image/jpeg, image/png, image/gif and image/webp images, got ${declared}.`, param, 'invalid_image_format');
    }
    block = { type: 'image', source: { type: 'base64', media_type: mediaType, data: parsed.base64 } };
  } else if (/^https?:\/\//i.test(url)) {
    block = { type: 'image', source: { type: 'url', url } };
  } else {
    throw invalidRequest(`'${param}' must be an http(s) URL or a data: URL.`, param, 'invalid_image_url');
  }
  if (cacheControl) block.cache_control = cacheControl;
  return block;
}

/** File data (a data URL, or bare base64 taken as PDF) → a document block, or null when it is neither PDF nor plain text. */
function documentFromData(data: string | null): DocumentBlock | null {
  const parsed = data ? parseDataUrl(data.startsWith('data:') ? data : `data:application/pdf;base64,${data}`) : null;
  if (parsed?.mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: parsed.base64 } };
  if (parsed?.mediaType === 'text/plain') return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(parsed.base64, 'base64').toString('utf8') } };
  return null;
}

function dropped(warnings: RequestWarning[], param: string, why: string): null {
  warnings.push({ type: 'unsupported-parameter', parameter: param, message: `${param} dropped: ${why}` });
  return null;
}

/** A core file part → a document block, or null (with a warning) when it cannot be sent. */
function fileDocument(part: FilePart, param: string, warnings: RequestWarning[]): DocumentBlock | null {
  const source = part.source;
  let block: DocumentBlock | null;
  if (source.kind === 'file-id') return dropped(warnings, param, 'OpenAI file ids cannot be sent to Anthropic');
  if (source.kind === 'text') block = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: source.text } };
  else if (source.kind === 'url' && /^https?:\/\//i.test(source.url)) block = { type: 'document', source: { type: 'url', url: source.url } };
  else block = documentFromData(mediaUrl(source));
  if (!block) return dropped(warnings, param, 'only PDF and plain-text file_data can be sent to Anthropic');
  const title = part.title ?? (part.filename !== undefined && part.filename.length > 0 ? part.filename : undefined);
  if (title !== undefined) block.title = title;
  const cacheControl = wireCacheControl(part.cacheControl);
  if (cacheControl) block.cache_control = cacheControl;
  return block;
}

/** An OpenAI `file` part (`file_data` as a data URL) → a document block, or null when it cannot be sent. */
function openAIDocument(part: Record<string, unknown>, param: string, warnings: RequestWarning[]): DocumentBlock | null {
  const file = isRecord(part.file) ? part.file : {};
  const block = documentFromData(typeof file.file_data === 'string' ? file.file_data : null);
  if (!block) return dropped(warnings, param, typeof file.file_id === 'string' ? 'OpenAI file ids cannot be sent to Anthropic' : 'only PDF and plain-text file_data can be sent to Anthropic');
  if (typeof file.filename === 'string' && file.filename.length > 0) block.title = file.filename;
  const cacheControl = cacheControlOf(part);
  if (cacheControl) block.cache_control = cacheControl;
  return block;
}

/** An OpenAI content part the core kept whole (a native part) → a block, as the OpenAI-pivot adapter read it. */
function openAIPartBlock(part: unknown, param: string, warnings: RequestWarning[]): UserContentBlock | null {
  if (!isRecord(part)) return dropped(warnings, param, "Anthropic does not accept 'undefined' content parts");
  if (part.type === 'text' && typeof part.text === 'string') return textBlock(part.text, cacheControlOf(part));
  if (part.type === 'image_url' && isRecord(part.image_url) && typeof part.image_url.url === 'string') return imageBlock(part.image_url.url, `${param}.image_url.url`, cacheControlOf(part));
  if (part.type === 'file') return openAIDocument(part, param, warnings);
  return dropped(warnings, param, `Anthropic does not accept '${String(part.type)}' content parts`);
}

/** A block of a user turn or a tool result (Anthropic-native blocks, passed as they came, are typed as one of these). */
export type UserContentBlock = TextBlock | ImageBlock | DocumentBlock;

/** Core user (or tool-result) parts → blocks; empty text is dropped. */
export function userContentBlocks(parts: readonly UserPart[], param: string, warnings: RequestWarning[]): UserContentBlock[] {
  const blocks: UserContentBlock[] = [];
  parts.forEach((part, index) => {
    const partParam = `${param}[${index}]`;
    let block: UserContentBlock | null = null;
    switch (part.type) {
      case 'text':
        block = textBlock(part.text, wireCacheControl(part.cacheControl));
        break;
      case 'image':
        block = imageBlock(mediaUrl(part.source), `${partParam}.image_url.url`, wireCacheControl(part.cacheControl));
        break;
      case 'file':
        block = fileDocument(part, partParam, warnings);
        break;
      case 'audio':
        dropped(warnings, partParam, "Anthropic does not accept 'input_audio' content parts");
        break;
      case 'native':
        if (part.family === 'anthropic') block = part.value as UserContentBlock;
        else if (part.family === 'openai') block = openAIPartBlock(part.value, partParam, warnings);
        else dropped(warnings, partParam, `Anthropic does not accept '${part.kind}' content parts`);
        break;
    }
    if (block) blocks.push(block);
  });
  return blocks;
}
