/**
 * What the request writer accepts: the gateway's RequestRecord plus optional facts the
 * gateway may know (a response-cache hit, per-attempt details, the 1-hour cache-write
 * share). Every extra field is optional, so a plain RequestRecord is always accepted.
 */
import type { AttemptRecord, RecordBodyTexts, RequestRecord, RequestWarning, Usage } from '../core/record.js';
import { objectMembersText } from '../core/json-text.js';

/** One upstream attempt, as the attempt loop saw it. */
export type AttemptDetail = AttemptRecord;

export type StoredUsage = Usage & {
  /** Part of cacheWriteInputTokens written with a 1-hour TTL (priced at the 1-hour rate). */
  cacheWrite1hInputTokens?: number;
};

export type StoredRequestRecord = Omit<RequestRecord, 'usage'> & {
  usage: StoredUsage | null;
  /** The response came from the gateway's own response cache: no upstream cost, and its usage counts as savings. */
  cacheHit?: boolean;
  /** One entry per upstream attempt; when absent one attempt row is synthesised from the record. */
  attemptsDetail?: AttemptDetail[];
};

/**
 * A record as it crosses to the writer thread: its journal line (every field but the
 * bodies, already serialised for the journal) and the bodies beside it, so the record's
 * facts cross as one string instead of being structured-cloned field by field. A body the
 * gateway held as JSON text (RecordBodyTexts) crosses as that string, marked in `bodyTexts`,
 * and is parsed on the writer's side: strings cost the hand-off a copy, objects a walk.
 */
export interface HandedRecord {
  /** The journal line's JSON (journalJson; with or without its newline: the writer parses it). */
  journalLine: string;
  requestBody: unknown;
  upstreamRequestBody: unknown;
  responseBody: unknown;
  /** Which bodies are JSON texts: BODY_TEXT bits. */
  bodyTexts: number;
}

/**
 * The bits of HandedRecord.bodyTexts. `upstreamSameAsRequest`: the upstream body's text is the
 * client's (a same-format request sent as it came), so it crosses once, as requestBody, and
 * upstreamRequestBody crosses as null (postMessage copies every string it meets, equal or not).
 */
export const BODY_TEXT = { requestBody: 1, upstreamRequestBody: 2, responseBody: 4, upstreamSameAsRequest: 8, upstreamRequestWith: 16 } as const;

/**
 * When `upstream` is `request`'s text with members appended before its closing brace (what an
 * OpenAI stream's request becomes with the `stream_options` the gateway adds: see
 * openai-compatible/request.ts withStreamUsage), those members' text, `,"name":value…`; else
 * null. Then `upstreamRequestWith` is set and only this crosses for the upstream body: the
 * writer makes the upstream body as the request's with these members, sharing its message
 * objects, and stores it as a marker (content-addressing.ts upstreamSameAsRequestWith).
 */
export function appendedMembers(request: string, upstream: string): string | null {
  if (upstream.length <= request.length) return null;
  const members = objectMembersText(request);
  // After the request's last member comes a comma: the number or literal it ended with is whole.
  if (members === null || upstream.charCodeAt(members.length) !== 44 || !upstream.endsWith('}') || !upstream.startsWith(members)) return null;
  return upstream.slice(members.length, -1);
}

/** What the writer thread receives: a handed record, or a whole record (one that would not serialise whole). */
export type RecordOnTheWire = HandedRecord | StoredRequestRecord;

/** A record's journal line and bodies as they cross: each body as its text where one is given. */
export function handedRecord(record: StoredRequestRecord, journalLine: string, texts: RecordBodyTexts | undefined): HandedRecord {
  if (!texts) return { journalLine, requestBody: record.requestBody, upstreamRequestBody: record.upstreamRequestBody, responseBody: record.responseBody, bodyTexts: 0 };
  const { requestBody, upstreamRequestBody, responseBody } = texts;
  // The upstream body's text: once only when it is the client's, as the members it appends when
  // that is all it adds, else as it is.
  let upstream: unknown = upstreamRequestBody ?? record.upstreamRequestBody;
  let upstreamText: number = upstreamRequestBody === undefined ? 0 : BODY_TEXT.upstreamRequestBody;
  if (requestBody !== undefined && upstreamRequestBody === requestBody) {
    upstream = null;
    upstreamText = BODY_TEXT.upstreamSameAsRequest;
  } else if (requestBody !== undefined && upstreamRequestBody !== undefined) {
    const appended = appendedMembers(requestBody, upstreamRequestBody);
    if (appended !== null) {
      upstream = appended;
      upstreamText = BODY_TEXT.upstreamRequestWith;
    }
  }
  return {
    journalLine,
    requestBody: requestBody ?? record.requestBody,
    upstreamRequestBody: upstream,
    responseBody: responseBody ?? record.responseBody,
    bodyTexts: (requestBody === undefined ? 0 : BODY_TEXT.requestBody) | upstreamText | (responseBody === undefined ? 0 : BODY_TEXT.responseBody),
  };
}

/**
 * The request's body with the appended members set, as JSON.parse of the whole upstream text
 * reads it (a member already there keeps its place and takes the new value), sharing the
 * request's other members.
 */
function withMembers(requestBody: unknown, appended: string): Record<string, unknown> {
  return { ...(requestBody as Record<string, unknown>), ...(JSON.parse(`{${appended.slice(1)}}`) as Record<string, unknown>) };
}

/** The record again, on the writer's side. */
export function recordFromWire(item: RecordOnTheWire): StoredRequestRecord {
  if (!('journalLine' in item)) return item;
  const record = JSON.parse(item.journalLine) as StoredRequestRecord;
  const texts = item.bodyTexts ?? 0;
  record.requestBody = texts & BODY_TEXT.requestBody ? JSON.parse(item.requestBody as string) : item.requestBody;
  // A body sent upstream as the client wrote it (same format, nothing changed; handedRecord
  // then sends its text once) is parsed once: the writer only reads bodies, and addresses a
  // body shared by both parts once (prepareRequest).
  record.upstreamRequestBody =
    texts & BODY_TEXT.upstreamSameAsRequest
      ? record.requestBody
      : texts & BODY_TEXT.upstreamRequestWith
        ? withMembers(record.requestBody, item.upstreamRequestBody as string)
        : texts & BODY_TEXT.upstreamRequestBody
          ? JSON.parse(item.upstreamRequestBody as string)
          : item.upstreamRequestBody;
  record.responseBody = texts & BODY_TEXT.responseBody ? JSON.parse(item.responseBody as string) : item.responseBody;
  return record;
}

/**
 * A handed record whose bodies will not parse, as a replay of its journal line would store it
 * (every field but the bodies), with a warning saying so; null when the line will not parse
 * either. The request stays logged. The warning does not quote the parser's message: V8's
 * quotes the text around the fault, which may hold a key.
 */
export function factsFromWire(item: HandedRecord): StoredRequestRecord | null {
  let record: StoredRequestRecord;
  try {
    record = JSON.parse(item.journalLine) as StoredRequestRecord;
  } catch {
    return null;
  }
  if (typeof record !== 'object' || record === null || typeof record.id !== 'string') return null;
  record.requestBody = null;
  record.upstreamRequestBody = null;
  record.responseBody = null;
  const warnings = Array.isArray(record.warnings) ? record.warnings : [];
  record.warnings = [...warnings, { type: 'other', message: 'The request and response bodies were not stored: they could not be read back as JSON.' }];
  return record;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function optionalCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

type BodyField = 'requestBody' | 'upstreamRequestBody' | 'responseBody';
/** Bodies to keep as they are (known to be safe) when the others are cut. */
export type BodiesKept = Partial<Pick<StoredRequestRecord, BodyField>>;
const BODY_NAMES: ReadonlyArray<readonly [BodyField, string]> = [
  ['requestBody', 'request body'],
  ['upstreamRequestBody', 'upstream request body'],
  ['responseBody', 'response body'],
];

/**
 * The bodies of a record that survive a structured clone (or `probe`: what the writer does
 * with a body), for keeping them when another cannot be sent or stored (only called after
 * a failure: it processes each body once more).
 */
export function cloneableBodies(record: StoredRequestRecord, probe: (body: unknown) => unknown = structuredClone): BodiesKept {
  const kept: BodiesKept = {};
  for (const [field] of BODY_NAMES) {
    try {
      probe(record[field]);
      kept[field] = record[field];
    } catch {
      // cut
    }
  }
  return kept;
}

/**
 * The record reduced to what is safe to clone, serialise and store whatever its bodies
 * hold: bodies cut (but those in `kept`), the upstream's raw usage dropped, every other field copied as plain
 * strings and numbers, and a warning saying why. Used when the whole record could not
 * cross to the writer thread, be journalled or be written: the request is still logged.
 */
export function recordWithoutBodies(record: StoredRequestRecord, reason: string, kept: BodiesKept = {}): StoredRequestRecord {
  const usage = record.usage
    ? {
        inputTokens: count(record.usage.inputTokens),
        cachedInputTokens: count(record.usage.cachedInputTokens),
        cacheWriteInputTokens: count(record.usage.cacheWriteInputTokens),
        outputTokens: count(record.usage.outputTokens),
        reasoningTokens: count(record.usage.reasoningTokens),
        ...(typeof record.usage.cacheWrite1hInputTokens === 'number' ? { cacheWrite1hInputTokens: count(record.usage.cacheWrite1hInputTokens) } : {}),
      }
    : null;
  const warnings: RequestWarning[] = (Array.isArray(record.warnings) ? record.warnings : []).map((warning) => ({
    type: warning?.type === 'unsupported-parameter' ? 'unsupported-parameter' : 'other',
    ...(typeof warning?.parameter === 'string' ? { parameter: warning.parameter } : {}),
    message: text(warning?.message) ?? '',
  }));
  const cutBodies = BODY_NAMES.filter(([field]) => !(field in kept)).map(([, name]) => name);
  const everyBody = cutBodies.length === BODY_NAMES.length;
  const cut = everyBody ? ['request and response bodies'] : cutBodies;
  const what = cut.length === 0 ? "The upstream's raw usage report was" : `The ${cut.join(' and ')} ${cut.length === 1 && !everyBody ? 'was' : 'were'}`;
  warnings.push({ type: 'other', message: `${what} not stored: ${reason}.` });
  const status = record.status === 'error' || record.status === 'cancelled' ? record.status : 'success';
  return {
    id: String(record.id),
    startedAt: count(record.startedAt),
    endedAt: count(record.endedAt),
    endpoint: text(record.endpoint) ?? '',
    requestedModel: text(record.requestedModel),
    resolvedModel: text(record.resolvedModel),
    provider: text(record.provider),
    status,
    httpStatus: count(record.httpStatus),
    errorType: text(record.errorType),
    errorMessage: text(record.errorMessage),
    stream: record.stream === true,
    usage,
    timeToFirstTokenMs: optionalCount(record.timeToFirstTokenMs),
    latencyMs: count(record.latencyMs),
    attempts: count(record.attempts),
    finishReason: text(record.finishReason),
    gatewayKeyId: text(record.gatewayKeyId),
    user: text(record.user),
    conversationId: text(record.conversationId),
    tags: (Array.isArray(record.tags) ? record.tags : []).map((tag) => ({ key: text(tag?.key) ?? '', value: text(tag?.value) ?? '' })),
    requestBody: 'requestBody' in kept ? kept.requestBody : null,
    upstreamRequestBody: 'upstreamRequestBody' in kept ? kept.upstreamRequestBody : null,
    responseBody: 'responseBody' in kept ? kept.responseBody : null,
    warnings,
    ...(record.cacheHit === true ? { cacheHit: true } : {}),
    ...(Array.isArray(record.attemptsDetail)
      ? {
          attemptsDetail: record.attemptsDetail.map((attempt) => ({
            provider: text(attempt?.provider),
            model: text(attempt?.model),
            startedAt: optionalCount(attempt?.startedAt),
            endedAt: optionalCount(attempt?.endedAt),
            latencyMs: optionalCount(attempt?.latencyMs),
            httpStatus: optionalCount(attempt?.httpStatus),
            status: attempt?.status === 'success' || attempt?.status === 'error' || attempt?.status === 'cancelled' ? attempt.status : null,
            errorType: text(attempt?.errorType),
            errorMessage: text(attempt?.errorMessage),
          })),
        }
      : {}),
  };
}

/** Why a value could not be cloned or serialised, in a few words for the record's warning. */
export function unstorableReason(error: unknown): string {
  if (error instanceof RangeError) return 'they are nested too deeply or too large to copy';
  const name = (error as { name?: unknown })?.name;
  if (name === 'DataCloneError') return 'they hold values that cannot be copied';
  return `they could not be processed (${error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200)})`;
}
