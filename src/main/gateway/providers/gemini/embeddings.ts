/**
 * OpenAI embeddings ↔ Gemini `:batchEmbedContents`. Every input becomes one request item
 * that repeats `model: "models/<id>"` (the API checks it against the URL); `dimensions`
 * becomes `outputDimensionality`. The answer is shaped as OpenAI's, with floats or, when
 * asked (the openai SDK's default), little-endian float32 base64.
 */
import { invalidRequest } from '../../errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../openai-types.js';
import type { RequestWarning } from '../../types.js';
import type { ParsedEmbeddings, PreparedRequest, UpstreamTarget } from '../types.js';
import { badResponseError } from './errors.js';
import { bareModel, geminiHeaders, modelUrl } from './request.js';

const TRANSLATED = new Set(['model', 'input', 'encoding_format', 'dimensions']);

export function buildBatchEmbedRequest(request: EmbeddingsRequest, model: string): { body: { requests: Array<Record<string, unknown>> }; warnings: RequestWarning[] } {
  const input = request.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((item) => typeof item === 'string') ? (input as string[]) : null;
  if (!texts) {
    throw invalidRequest("'input' must be text (a string or an array of strings) for Gemini embedding models; token arrays are not supported.", 'input', 'invalid_value');
  }
  const warnings: RequestWarning[] = [];
  const requests = texts.map((text) => {
    const item: Record<string, unknown> = { model: `models/${model}`, content: { parts: [{ text }] } };
    if (typeof request.dimensions === 'number') item.outputDimensionality = request.dimensions;
    return item;
  });
  for (const [parameter, value] of Object.entries(request)) {
    if (TRANSLATED.has(parameter) || value === undefined || value === null) continue;
    warnings.push({ type: 'unsupported-parameter', parameter, message: `${parameter} dropped: Gemini has no equivalent` });
  }
  return { body: { requests }, warnings };
}

export function prepareGeminiEmbeddings(request: EmbeddingsRequest, target: UpstreamTarget): { request: PreparedRequest; warnings: RequestWarning[] } {
  const model = bareModel(target.model);
  const { body, warnings } = buildBatchEmbedRequest(request, model);
  return {
    request: { method: 'POST', url: modelUrl(target, 'batchEmbedContents'), headers: geminiHeaders(target, 'application/json'), body: JSON.stringify(body), json: body },
    warnings,
  };
}

function toBase64(values: number[]): string {
  const floats = new Float32Array(values);
  const bytes = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
  // Float32Array uses the platform's byte order; OpenAI's base64 is little-endian.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 0) bytes.swap32();
  return bytes.toString('base64');
}

export function translateEmbeddings(parsed: unknown, request: EmbeddingsRequest, model: string, providerName: string): ParsedEmbeddings {
  const embeddings = (parsed as { embeddings?: unknown } | null)?.embeddings;
  if (!Array.isArray(embeddings)) throw badResponseError(providerName, 'an embeddings response without embeddings');
  const base64 = request.encoding_format === 'base64';
  const data: EmbeddingsResponse['data'] = embeddings.map((embedding, index) => {
    const values = (embedding as { values?: unknown } | null)?.values;
    if (!Array.isArray(values) || values.some((value) => typeof value !== 'number')) throw badResponseError(providerName, `an embedding without values (item ${index})`);
    return { object: 'embedding', index, embedding: base64 ? toBase64(values as number[]) : (values as number[]) };
  });
  // batchEmbedContents reports no token counts; a newer usageMetadata is read when present.
  const promptTokens = (parsed as { usageMetadata?: { promptTokenCount?: unknown } }).usageMetadata?.promptTokenCount;
  const tokens = typeof promptTokens === 'number' && promptTokens > 0 ? promptTokens : 0;
  return {
    response: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    usage: tokens > 0 ? { inputTokens: tokens, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0, raw: (parsed as { usageMetadata?: unknown }).usageMetadata } : null,
  };
}

export function parseGeminiEmbeddingsResponse(body: Buffer, target: UpstreamTarget, request: EmbeddingsRequest): ParsedEmbeddings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badResponseError(target.provider.name, 'an embeddings response that is not valid JSON');
  }
  return translateEmbeddings(parsed, request, bareModel(target.model), target.provider.name);
}
