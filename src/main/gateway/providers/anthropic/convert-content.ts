/**
 * OpenAI content parts → Anthropic content blocks: text (empty and whitespace-only text is
 * dropped, because Anthropic rejects such blocks), images (`data:` URLs become base64
 * sources, http(s) URLs become url sources), PDF and plain-text files (document blocks).
 * Anything else is dropped with a warning. `cache_control` on a part is carried over, the
 * convention other gateways use for Anthropic prompt caching through the OpenAI API.
 */
import { invalidRequest } from '../../errors.js';
import type { ContentPart } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import type { CacheControl, DocumentBlock, ImageBlock, TextBlock } from './wire-types.js';

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function cacheControlOf(part: unknown): CacheControl | undefined {
  if (!isRecord(part) || !isRecord(part.cache_control) || part.cache_control.type !== 'ephemeral') return undefined;
  const ttl = part.cache_control.ttl;
  return ttl === '5m' || ttl === '1h' ? { type: 'ephemeral', ttl } : { type: 'ephemeral' };
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

/** An OpenAI `file` part (`file_data` as a data URL) → a document block, or null when it cannot be sent. */
function documentBlock(part: Record<string, unknown>, param: string, warnings: RequestWarning[]): DocumentBlock | null {
  const file = isRecord(part.file) ? part.file : {};
  const data = typeof file.file_data === 'string' ? file.file_data : null;
  const parsed = data ? parseDataUrl(data.startsWith('data:') ? data : `data:application/pdf;base64,${data}`) : null;
  let block: DocumentBlock | null = null;
  if (parsed?.mediaType === 'application/pdf') {
    block = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: parsed.base64 } };
  } else if (parsed?.mediaType === 'text/plain') {
    block = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(parsed.base64, 'base64').toString('utf8') } };
  }
  if (!block) {
    const why = typeof file.file_id === 'string' ? 'OpenAI file ids cannot be sent to Anthropic' : 'only PDF and plain-text file_data can be sent to Anthropic';
    warnings.push({ type: 'unsupported-parameter', parameter: param, message: `${param} dropped: ${why}` });
    return null;
  }
  if (typeof file.filename === 'string' && file.filename.length > 0) block.title = file.filename;
  const cacheControl = cacheControlOf(part);
  if (cacheControl) block.cache_control = cacheControl;
  return block;
}

export type UserContentBlock = TextBlock | ImageBlock | DocumentBlock;

/** User (or tool-result) content → blocks; empty text is dropped. */
export function userContentBlocks(content: string | ContentPart[] | null | undefined, param: string, warnings: RequestWarning[]): UserContentBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') {
    const block = textBlock(content);
    return block ? [block] : [];
  }
  const blocks: UserContentBlock[] = [];
  content.forEach((part, index) => {
    const partParam = `${param}[${index}]`;
    if (part.type === 'text' && typeof part.text === 'string') {
      const block = textBlock(part.text, cacheControlOf(part));
      if (block) blocks.push(block);
    } else if (part.type === 'image_url' && isRecord(part.image_url) && typeof part.image_url.url === 'string') {
      blocks.push(imageBlock(part.image_url.url, `${partParam}.image_url.url`, cacheControlOf(part)));
    } else if (part.type === 'file') {
      const block = documentBlock(part as Record<string, unknown>, partParam, warnings);
      if (block) blocks.push(block);
    } else {
      warnings.push({ type: 'unsupported-parameter', parameter: partParam, message: `${partParam} dropped: Anthropic does not accept '${part.type}' content parts` });
    }
  });
  return blocks;
}

/** System, developer and assistant content: text parts only. */
export function textContentBlocks(content: string | ContentPart[] | null | undefined, param: string, warnings: RequestWarning[]): TextBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') {
    const block = textBlock(content);
    return block ? [block] : [];
  }
  const blocks: TextBlock[] = [];
  content.forEach((part, index) => {
    if (part.type === 'text' && typeof part.text === 'string') {
      const block = textBlock(part.text, cacheControlOf(part));
      if (block) blocks.push(block);
    } else {
      const partParam = `${param}[${index}]`;
      warnings.push({ type: 'unsupported-parameter', parameter: partParam, message: `${partParam} dropped: only text parts are accepted here` });
    }
  });
  return blocks;
}
