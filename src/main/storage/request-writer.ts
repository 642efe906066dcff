/**
 * The request log's writer. The gateway hands finished requests to `enqueue`, which only
 * pushes onto an array; a timer (every `flushIntervalMs`, default 50 ms) or a full batch
 * (256 records, flushed on the next turn of the event loop) writes them, one transaction
 * per batch: the request row, its tags, attempts, content-addressed messages, bodies, the
 * conversation's totals and the hourly and daily rollups, so rollups never disagree with
 * raw rows. Durability: a committed batch survives a killed process (WAL); what is still
 * queued does not, so a caller that must not lose an answered request awaits `committed()`.
 * Cost is computed here, from normalised usage and the price book, off the response path.
 */
import { performance } from 'node:perf_hooks';
import type { Usage } from '../core/record.js';
import { createPriceBook, type PriceBook } from '../pricing/catalog.js';
import { deriveConversationId } from './conversation-id.js';
import { addedMembers, addressRequestBody, addressResponseBody, redactSecrets, MessageCache, MESSAGE_PARTS, UPSTREAM_SAME_AS_REQUEST, upstreamSameAsRequestWith, type AddressedMessages, type StoredMessage } from './content-addressing.js';
import type { SqliteDatabase, SqliteStatement } from './database.js';
import { RollupAccumulator, prepareRollupUpserts, type RequestFacts, type RollupKey } from './rollups.js';
import { cloneableBodies, factsFromWire, recordFromWire, recordWithoutBodies, unstorableReason, type AttemptDetail, type RecordOnTheWire, type StoredRequestRecord, type StoredUsage } from './stored-record.js';
import { costOfRecord } from './record-cost.js';

export interface RequestWriterOptions {
  /** Prices used to cost each request (default: the bundled catalog without overrides). */
  priceBook?: PriceBook;
  /** How long a record may wait before its batch is written, in ms (default 50; 0 = next turn of the event loop). */
  flushIntervalMs?: number;
  /** Records per transaction; reaching it triggers a flush on the next turn of the event loop (default 256). */
  maxBatchSize?: number;
  /** Store message contents and request/response bodies (default true). When false, none are stored. */
  storeBodies?: boolean;
  /** Called when a record cannot be written (it is then dropped) or arrives after close. */
  onError?: (error: Error, record: StoredRequestRecord | null) => void;
  /** Called after each batch transaction with its size and how long it held the event loop (ms). */
  onBatchWritten?: (records: number, milliseconds: number) => void;
  /** Called after a flush has written (or dropped) everything that was queued; `complete` is false when a record was dropped. */
  onFlushed?: (complete: boolean) => void;
  /**
   * Between two records of a flush, once `afterMs` has passed (wall time) since the flush began
   * or since the last pause, `run` is called (the writer thread sleeps there, so that a thread
   * waiting for a core gets it: request-writer-worker-entry.ts). A pause within a batch holds its
   * transaction open, so it adds to the time another connection waits to write. Default: no pauses.
   */
  pause?: { afterMs: number; run: () => void };
}

export interface RequestWriter {
  /**
   * Queues a finished request, or one as it crossed from the gateway's thread (RecordOnTheWire),
   * rebuilt only when its batch is written: what waits in the queue is a few strings, not the
   * record's objects, so it dies young whatever the flush interval. Never throws, never touches the database.
   */
  enqueue(record: RecordOnTheWire): void;
  /** Writes everything queued, synchronously. Returns the number of records written. */
  flush(): number;
  /** Resolves once everything queued before the call is committed (or dropped with an error). */
  committed(): Promise<void>;
  /** Flushes and stops; later records are reported through onError and dropped. */
  close(): void;
  setStoreBodies(storeBodies: boolean): void;
  setPriceBook(priceBook: PriceBook): void;
  readonly pendingCount: number;
}

const TITLE_LENGTH = 120;

/** A record turned into column values, ready for the statements. Exported for tests. */
export interface PreparedRequest {
  row: Record<string, string | number | null>;
  conversationId: string | null;
  facts: RequestFacts;
  rollupKeys: RollupKey[];
  tags: Array<{ key: string; value: string }>;
  attempts: Array<Record<string, string | number | null>>;
  messageParts: Array<{ part: number; messages: StoredMessage[] }>;
  bodies: { request: string | null; upstream: string | null; response: string | null } | null;
  conversationTitle: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegativeInteger(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

function optionalInteger(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null;
}

/** The scope used when deriving conversation ids: chats of different keys or users never merge. */
export function conversationScope(gatewayKeyId: string | null, user: string | null): string {
  return `${gatewayKeyId ?? ''}\u0000${user ?? ''}`;
}

function firstUserText(body: unknown): string | null {
  if (!isRecord(body)) return null;
  // A Responses request's input: a string is the user's text; a list holds messages among its items.
  const messages = Array.isArray(body.messages) ? body.messages : typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : null;
  if (!messages) return null;
  for (const message of messages) {
    if (!isRecord(message) || message.role !== 'user') continue;
    const content = message.content;
    let text: string;
    if (typeof content === 'string') text = content;
    else if (Array.isArray(content)) {
      text = content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join(' ');
    } else continue;
    const compact = text.replace(/\s+/g, ' ').trim();
    return compact.length > TITLE_LENGTH ? `${compact.slice(0, TITLE_LENGTH - 1)}…` : compact;
  }
  return null;
}

/** Attempt rows without their request_seq (known only once the request row is inserted). */
function attemptRows(record: StoredRequestRecord): Array<Record<string, string | number | null>> {
  const details: AttemptDetail[] | null = Array.isArray(record.attemptsDetail) ? record.attemptsDetail : null;
  if (details) {
    return details.map((attempt, index) => ({
      attempt_index: index,
      provider: attempt.provider ?? null,
      model: attempt.model ?? null,
      started_at: optionalInteger(attempt.startedAt),
      ended_at: optionalInteger(attempt.endedAt),
      latency_ms: optionalInteger(attempt.latencyMs),
      http_status: optionalInteger(attempt.httpStatus),
      status: attempt.status ?? null,
      error_type: attempt.errorType ?? null,
      error_message: attempt.errorMessage ?? null,
    }));
  }
  if (record.attempts < 1 || record.cacheHit === true) return [];
  // Without details only the last attempt is known: it is the one whose outcome the record describes.
  return [
    {
      attempt_index: Math.max(0, record.attempts - 1),
      provider: record.provider,
      model: record.resolvedModel,
      started_at: null,
      ended_at: optionalInteger(record.endedAt),
      latency_ms: null,
      http_status: optionalInteger(record.httpStatus),
      status: record.status,
      error_type: record.errorType,
      error_message: record.errorMessage,
    },
  ];
}

/** What the writer does with a body that can fail on a hostile one (recursion deep enough to overflow the stack). */
function processBody(body: unknown): void {
  if (body === null || body === undefined) return;
  JSON.stringify(redactSecrets(body));
  addressRequestBody(body);
  addressResponseBody(body);
}

/**
 * Turns one record into everything the writer stores for it (pure apart from hashing; a
 * `messages` cache kept across records addresses a message seen before without hashing it again).
 */
export function prepareRequest(record: StoredRequestRecord, priceBook: PriceBook, storeBodies: boolean, messages?: MessageCache): PreparedRequest {
  const { usage, usageEstimated: estimated, costNanoUsd, priced, cacheSavingsNanoUsd, cacheReadSavingsNanoUsd } = costOfRecord(record, priceBook);
  // The gateway normally sets it (x-conversation-id, else derived); derive it here if it did not.
  const conversationId =
    record.conversationId ??
    deriveConversationId({ body: record.requestBody, scope: conversationScope(record.gatewayKeyId, record.user), endpoint: record.endpoint });
  const cacheHit = record.cacheHit === true;
  const model = record.resolvedModel ?? record.requestedModel;
  const latencyMs = nonNegativeInteger(record.latencyMs);
  const timeToFirstTokenMs = optionalInteger(record.timeToFirstTokenMs);

  const row: Record<string, string | number | null> = {
    id: record.id,
    started_at: Math.round(record.startedAt),
    ended_at: Math.round(record.endedAt),
    endpoint: record.endpoint,
    requested_model: record.requestedModel,
    resolved_model: record.resolvedModel,
    provider: record.provider,
    status: record.status,
    http_status: Math.round(record.httpStatus),
    error_type: record.errorType,
    error_message: record.errorMessage,
    stream: record.stream ? 1 : 0,
    input_tokens: nonNegativeInteger(usage.inputTokens),
    cached_input_tokens: nonNegativeInteger(usage.cachedInputTokens),
    cache_write_input_tokens: nonNegativeInteger(usage.cacheWriteInputTokens),
    output_tokens: nonNegativeInteger(usage.outputTokens),
    reasoning_tokens: nonNegativeInteger(usage.reasoningTokens),
    usage_raw_json: usage.raw === undefined ? null : JSON.stringify(redactSecrets(usage.raw)),
    usage_estimated: estimated ? 1 : 0,
    cost_nano_usd: costNanoUsd,
    priced: priced ? 1 : 0,
    cache_hit: cacheHit ? 1 : 0,
    cache_savings_nano_usd: cacheSavingsNanoUsd,
    cache_read_savings_nano_usd: cacheReadSavingsNanoUsd,
    time_to_first_token_ms: timeToFirstTokenMs,
    latency_ms: latencyMs,
    attempts: nonNegativeInteger(record.attempts),
    finish_reason: record.finishReason,
    gateway_key_id: record.gatewayKeyId,
    user: record.user,
    conversation_id: conversationId,
    trace_id: record.traceId ?? null,
    response_id: record.responseId ?? null,
    // The response a Responses request continued: what a later continuation walks back through.
    previous_response_id: record.endpoint === '/v1/responses' && isRecord(record.requestBody) && typeof record.requestBody.previous_response_id === 'string' ? record.requestBody.previous_response_id : null,
    warnings_json: record.warnings.length > 0 ? JSON.stringify(record.warnings) : null,
  };

  const facts: RequestFacts = {
    status: record.status,
    inputTokens: row.input_tokens as number,
    cachedInputTokens: row.cached_input_tokens as number,
    cacheWriteInputTokens: row.cache_write_input_tokens as number,
    outputTokens: row.output_tokens as number,
    reasoningTokens: row.reasoning_tokens as number,
    costNanoUsd,
    priced,
    usageEstimated: estimated,
    cacheHit,
    cacheSavingsNanoUsd,
    cacheReadSavingsNanoUsd,
    latencyMs,
    timeToFirstTokenMs,
  };

  const tags: Array<{ key: string; value: string }> = [];
  const seenTags = new Set<string>();
  for (const tag of record.tags) {
    const identity = `${tag.key}\u0000${tag.value}`;
    if (seenTags.has(identity)) continue;
    seenTags.add(identity);
    tags.push({ key: tag.key, value: tag.value });
  }

  const rollupKeys: RollupKey[] = [
    { dimension: 'total', value: '', detail: '' },
    { dimension: 'model', value: model ?? '', detail: record.provider ?? '' },
    { dimension: 'key', value: record.gatewayKeyId ?? '', detail: '' },
    { dimension: 'user', value: record.user ?? '', detail: '' },
    ...tags.map((tag): RollupKey => ({ dimension: 'tag', value: tag.key, detail: tag.value })),
  ];

  let messageParts: PreparedRequest['messageParts'] = [];
  let bodies: PreparedRequest['bodies'] = null;
  let conversationTitle: string | null = null;
  if (storeBodies) {
    const memo: AddressedMessages = new Map();
    const request = addressRequestBody(record.requestBody, memo, messages);
    // The client's body with members added (an OpenAI stream's `stream_options`): stored as a
    // marker holding those members, read back as the request's body with them (upstreamMarker).
    const added = request.json === null ? null : addedMembers(record.requestBody, record.upstreamRequestBody);
    const upstreamWith = added ? upstreamSameAsRequestWith(JSON.stringify(redactSecrets(added))) : null;
    // The same body object (sent upstream as the client wrote it): the same addressed form.
    const upstream = record.upstreamRequestBody === record.requestBody || upstreamWith ? request : addressRequestBody(record.upstreamRequestBody, memo, messages);
    // A Responses answer's output items when the client leaves the conversation to the server
    // (store not false: its next turn names this one instead of sending them back).
    const response = addressResponseBody(record.responseBody, messages, record.endpoint === '/v1/responses' && !(isRecord(record.requestBody) && record.requestBody.store === false));
    // An upstream body equal to the client's (same text, so the same message references) is
    // stored as a marker, and its message links are the request's: a read restores a body from
    // any of its request's links, so parts 0 and 4 serve both.
    const sameUpstream = request.json !== null && (upstream === request || upstream.json === request.json);
    messageParts = [
      { part: MESSAGE_PARTS.request, messages: request.messages },
      ...(sameUpstream ? [] : [{ part: MESSAGE_PARTS.upstream, messages: upstream.messages }]),
      { part: MESSAGE_PARTS.response, messages: response.messages },
      ...(request.members.length > 0 ? [{ part: MESSAGE_PARTS.requestMembers, messages: request.members }] : []),
      ...(!sameUpstream && upstream.members.length > 0 ? [{ part: MESSAGE_PARTS.upstreamMembers, messages: upstream.members }] : []),
    ];
    bodies = { request: request.json, upstream: upstreamWith ?? (sameUpstream ? UPSTREAM_SAME_AS_REQUEST : upstream.json), response: response.json };
    conversationTitle = firstUserText(record.requestBody);
  }

  return {
    row,
    conversationId,
    facts,
    rollupKeys,
    tags,
    attempts: attemptRows(record),
    messageParts,
    bodies,
    conversationTitle,
  };
}

const REQUEST_COLUMNS = [
  'id', 'started_at', 'ended_at', 'endpoint', 'requested_model', 'resolved_model', 'provider', 'status',
  'http_status', 'error_type', 'error_message', 'stream', 'input_tokens', 'cached_input_tokens',
  'cache_write_input_tokens', 'output_tokens', 'reasoning_tokens', 'usage_raw_json', 'usage_estimated',
  'cost_nano_usd', 'priced', 'cache_hit', 'cache_savings_nano_usd', 'cache_read_savings_nano_usd',
  'time_to_first_token_ms', 'latency_ms', 'attempts', 'finish_reason', 'gateway_key_id', 'user',
  'conversation_id', 'warnings_json', 'trace_id', 'response_id', 'previous_response_id',
];

const ATTEMPT_COLUMNS = [
  'request_seq', 'attempt_index', 'provider', 'model', 'started_at', 'ended_at', 'latency_ms', 'http_status',
  'status', 'error_type', 'error_message',
];

type Value = string | number | null;

/**
 * Column values in REQUEST_COLUMNS' order (positional binding: better-sqlite3 looks every
 * named parameter up by name). Each member read by its name: `row[column]` over 35 names is a
 * megamorphic load per column (the writer thread's most frequent inline cache miss).
 */
function requestValues(row: PreparedRequest['row']): Value[] {
  return [
    row.id as Value, row.started_at as Value, row.ended_at as Value, row.endpoint as Value, row.requested_model as Value,
    row.resolved_model as Value, row.provider as Value, row.status as Value, row.http_status as Value, row.error_type as Value,
    row.error_message as Value, row.stream as Value, row.input_tokens as Value, row.cached_input_tokens as Value,
    row.cache_write_input_tokens as Value, row.output_tokens as Value, row.reasoning_tokens as Value, row.usage_raw_json as Value,
    row.usage_estimated as Value, row.cost_nano_usd as Value, row.priced as Value, row.cache_hit as Value,
    row.cache_savings_nano_usd as Value, row.cache_read_savings_nano_usd as Value, row.time_to_first_token_ms as Value,
    row.latency_ms as Value, row.attempts as Value, row.finish_reason as Value, row.gateway_key_id as Value, row.user as Value,
    row.conversation_id as Value, row.warnings_json as Value, row.trace_id as Value, row.response_id as Value,
    row.previous_response_id as Value,
  ];
}

// requestValues must follow REQUEST_COLUMNS: checked once, when the module loads.
{
  const probe = Object.fromEntries(REQUEST_COLUMNS.map((column) => [column, column]));
  const values = requestValues(probe);
  if (values.length !== REQUEST_COLUMNS.length || values.some((value, index) => value !== REQUEST_COLUMNS[index])) {
    throw new Error('request-writer: requestValues does not follow REQUEST_COLUMNS');
  }
}

/**
 * One batch's contribution to each conversation's totals: one upsert per conversation per
 * batch instead of one per request. `last_model` follows what a request-by-request upsert
 * would leave: the model of the last request (in batch order) that started at or after every
 * earlier one and names a model, kept only when it started at or after the stored row's
 * last_started_at (bound as the statement's last parameter).
 */
interface ConversationTotals {
  id: string;
  firstStartedAt: number;
  lastStartedAt: number;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  costNanoUsd: number;
  unpriced: number;
  model: string | null;
  modelStartedAt: number;
  title: string | null;
}

class ConversationAccumulator {
  private readonly totals = new Map<string, ConversationTotals>();

  add(record: StoredRequestRecord, prepared: PreparedRequest): void {
    const id = prepared.conversationId;
    if (!id) return;
    const startedAt = prepared.row.started_at as number;
    const { facts } = prepared;
    let totals = this.totals.get(id);
    if (!totals) {
      totals = {
        id,
        firstStartedAt: startedAt,
        lastStartedAt: startedAt,
        requests: 0,
        errors: 0,
        inputTokens: 0,
        outputTokens: 0,
        costNanoUsd: 0,
        unpriced: 0,
        model: null,
        modelStartedAt: Number.NEGATIVE_INFINITY,
        title: null,
      };
      this.totals.set(id, totals);
    }
    const model = record.resolvedModel ?? record.requestedModel;
    if (startedAt >= totals.lastStartedAt && model !== null && model !== undefined) {
      totals.model = model;
      totals.modelStartedAt = startedAt;
    }
    if (startedAt < totals.firstStartedAt) totals.firstStartedAt = startedAt;
    if (startedAt > totals.lastStartedAt) totals.lastStartedAt = startedAt;
    totals.requests += 1;
    if (record.status === 'error') totals.errors += 1;
    if (!facts.cacheHit) {
      totals.inputTokens += facts.inputTokens;
      totals.outputTokens += facts.outputTokens;
    }
    totals.costNanoUsd += facts.costNanoUsd;
    if (!facts.priced) totals.unpriced += 1;
    totals.title ??= prepared.conversationTitle;
  }

  writeTo(statement: SqliteStatement): void {
    for (const totals of this.totals.values()) {
      statement.run(
        totals.id,
        totals.firstStartedAt,
        totals.lastStartedAt,
        totals.requests,
        totals.errors,
        totals.inputTokens,
        totals.outputTokens,
        totals.costNanoUsd,
        totals.unpriced,
        totals.model,
        totals.title,
        totals.model === null ? null : totals.modelStartedAt,
      );
    }
    this.totals.clear();
  }

  clear(): void {
    this.totals.clear();
  }
}

/** Rows per statement a MultiRowInsert uses, largest first: any count is at most one statement of each. */
const CHUNK_ROWS = [128, 64, 32, 16, 8, 4, 2, 1];
const FULL_CHUNK = CHUNK_ROWS[0] as number;

/**
 * Rows of one table gathered over a batch and inserted a chunk at a time (`VALUES (…), (…), …`),
 * in the order they were added, which is what one INSERT per row would do: one statement run
 * for up to 128 rows instead of one each (a run costs more than the row it inserts). A full
 * chunk is inserted as soon as it is complete; the rest when the batch ends (`flush`).
 */
class MultiRowInsert {
  private readonly statements = new Map<number, SqliteStatement>();
  private values: unknown[] = [];

  constructor(
    private readonly database: SqliteDatabase,
    /** `INSERT … INTO table (columns)`: the VALUES are added. */
    private readonly head: string,
    private readonly columns: number,
  ) {}

  add(...row: unknown[]): void {
    for (const value of row) this.values.push(value);
    // A full chunk goes at once: the rows (bodies among them) need not outlive it.
    if (this.values.length === FULL_CHUNK * this.columns) this.flush();
  }

  private statement(rows: number): SqliteStatement {
    let statement = this.statements.get(rows);
    if (!statement) {
      const tuple = `(${new Array<string>(this.columns).fill('?').join(', ')})`;
      statement = this.database.prepare(`${this.head} VALUES ${new Array<string>(rows).fill(tuple).join(', ')}`);
      this.statements.set(rows, statement);
    }
    return statement;
  }

  flush(): void {
    const values = this.values;
    this.values = [];
    let offset = 0;
    let remaining = values.length / this.columns;
    for (const rows of CHUNK_ROWS) {
      while (remaining >= rows) {
        const end = offset + rows * this.columns;
        // Spread, not an array: better-sqlite3 reads an array's elements one API call each.
        this.statement(rows).run(...(offset === 0 && end === values.length ? values : values.slice(offset, end)));
        offset = end;
        remaining -= rows;
      }
    }
  }

  clear(): void {
    this.values = [];
  }
}

function prepareStatements(database: SqliteDatabase) {
  return {
    insertRequest: database.prepare(
      `INSERT INTO requests (${REQUEST_COLUMNS.join(', ')}) VALUES (${REQUEST_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (id) DO NOTHING`,
    ),
    tags: new MultiRowInsert(database, 'INSERT OR IGNORE INTO request_tags (request_seq, key, value)', 3),
    attempts: new MultiRowInsert(database, `INSERT OR REPLACE INTO attempts (${ATTEMPT_COLUMNS.join(', ')})`, ATTEMPT_COLUMNS.length),
    findMessage: database.prepare('SELECT id FROM messages WHERE hash = ?').pluck(),
    insertMessage: database.prepare('INSERT INTO messages (hash, role, content_json) VALUES (?, ?, ?)'),
    requestMessages: new MultiRowInsert(database, 'INSERT OR REPLACE INTO request_messages (request_seq, part, position, message_id)', 4),
    bodies: new MultiRowInsert(database, 'INSERT OR REPLACE INTO bodies (request_seq, request_json, upstream_request_json, response_json)', 4),
    // Parameters: ConversationAccumulator.writeTo's order; the last one is when the model it names started.
    upsertConversation: database.prepare(
      `INSERT INTO conversations (id, first_started_at, last_started_at, requests, errors, input_tokens, output_tokens,
         cost_nano_usd, unpriced_requests, last_model, title)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         first_started_at = min(first_started_at, excluded.first_started_at),
         last_started_at = max(last_started_at, excluded.last_started_at),
         requests = requests + excluded.requests,
         errors = errors + excluded.errors,
         input_tokens = input_tokens + excluded.input_tokens,
         output_tokens = output_tokens + excluded.output_tokens,
         cost_nano_usd = cost_nano_usd + excluded.cost_nano_usd,
         unpriced_requests = unpriced_requests + excluded.unpriced_requests,
         last_model = CASE WHEN ? >= last_started_at THEN excluded.last_model ELSE last_model END,
         title = coalesce(title, excluded.title)`,
    ),
    upsertRollups: prepareRollupUpserts(database),
    findExisting: database.prepare(
      `SELECT seq, conversation_id,
         EXISTS (SELECT 1 FROM bodies WHERE request_seq = requests.seq) OR EXISTS (SELECT 1 FROM request_messages WHERE request_seq = requests.seq) AS has_content
       FROM requests WHERE id = ?`,
    ),
    setConversation: database.prepare('UPDATE requests SET conversation_id = ? WHERE seq = ?'),
  };
}

export function createRequestWriter(database: SqliteDatabase, options: RequestWriterOptions = {}): RequestWriter {
  const flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 50);
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? 256);
  const onError = options.onError ?? ((error: Error) => console.error('[storage] request not logged:', error.message));
  let priceBook = options.priceBook ?? createPriceBook();
  let storeBodies = options.storeBodies ?? true;
  const statements = prepareStatements(database);
  const rollups = new RollupAccumulator();
  const conversations = new ConversationAccumulator();
  const messageCache = new MessageCache();

  let queue: RecordOnTheWire[] = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let closed = false;
  let waiters: Array<() => void> = [];

  /**
   * Message ids by hash, found or inserted in the current transaction: a message repeated
   * within a batch (a conversation's history resent with every turn, the upstream body's
   * copy of the client's messages) is looked up once. Emptied when a transaction begins, so
   * an id never outlives the transaction that saw it (one rolled back, or a retention run
   * deleting unreferenced messages between two batches).
   */
  const messageIds = new Map<string, number | bigint>();

  function messageIdOf(message: StoredMessage): number | bigint {
    let messageId = messageIds.get(message.hash);
    if (messageId !== undefined) return messageId;
    const hash = Buffer.from(message.hash, 'hex');
    messageId = (statements.findMessage.get(hash) as number | bigint | undefined) ?? statements.insertMessage.run(hash, message.role, message.contentJson).lastInsertRowid;
    messageIds.set(message.hash, messageId);
    return messageId;
  }

  function writeContent(requestSeq: number | bigint, prepared: PreparedRequest): void {
    for (const { part, messages } of prepared.messageParts) {
      messages.forEach((message, position) => {
        statements.requestMessages.add(requestSeq, part, position, messageIdOf(message));
      });
    }
    if (prepared.bodies) {
      const { request, upstream, response } = prepared.bodies;
      if (request !== null || upstream !== null || response !== null) statements.bodies.add(requestSeq, request, upstream, response);
    }
  }

  /**
   * The request is already logged. When that row came from a journal (written by a reader
   * or a restart before this writer got to it) it has no bodies and, unless the client
   * named it, no conversation: add what this full record knows. Totals and rollups stay
   * those of the first row, so nothing is counted twice.
   */
  function completeExisting(record: StoredRequestRecord, prepared: PreparedRequest): void {
    // The same id earlier in this batch: its content must be in the tables before they are asked.
    writeChildRows();
    const existing = statements.findExisting.get(record.id) as { seq: number | bigint; conversation_id: string | null; has_content: number } | undefined;
    if (!existing) return;
    if (existing.has_content === 0 && (prepared.bodies !== null || prepared.messageParts.some((part) => part.messages.length > 0))) {
      writeContent(existing.seq, prepared);
    }
    if (existing.conversation_id === null && prepared.conversationId) {
      statements.setConversation.run(prepared.conversationId, existing.seq);
      conversations.add(record, prepared);
    }
  }

  const childRows = [statements.tags, statements.attempts, statements.requestMessages, statements.bodies];

  function writeChildRows(): void {
    for (const rows of childRows) rows.flush();
  }

  /** What a failed transaction left in memory is dropped when the next one begins. */
  function beginTransaction(): void {
    messageIds.clear();
    rollups.clear();
    conversations.clear();
    for (const rows of childRows) rows.clear();
  }

  function endTransaction(): void {
    writeChildRows();
    conversations.writeTo(statements.upsertConversation);
    rollups.writeTo(statements.upsertRollups);
  }

  function writeOne(record: StoredRequestRecord): void {
    const prepared = prepareRequest(record, priceBook, storeBodies, messageCache);
    const inserted = statements.insertRequest.run(...requestValues(prepared.row));
    if (inserted.changes === 0) {
      // already logged: keep rollups exact
      completeExisting(record, prepared);
      return;
    }
    const requestSeq = inserted.lastInsertRowid;
    for (const tag of prepared.tags) statements.tags.add(requestSeq, tag.key, tag.value);
    for (const attempt of prepared.attempts) {
      statements.attempts.add(
        requestSeq, attempt.attempt_index, attempt.provider, attempt.model, attempt.started_at, attempt.ended_at,
        attempt.latency_ms, attempt.http_status, attempt.status, attempt.error_type, attempt.error_message,
      );
    }
    writeContent(requestSeq, prepared);
    conversations.add(record, prepared);
    rollups.add(prepared.row.started_at as number, prepared.rollupKeys, prepared.facts);
  }

  // Pauses between records (options.pause): the time the work since the last one began.
  const pause = options.pause;
  let workingSince = 0;
  const breathe = (): void => {
    if (!pause || performance.now() - workingSince < pause.afterMs) return;
    pause.run();
    workingSince = performance.now();
  };

  const writeBatch = database.transaction((batch: StoredRequestRecord[]) => {
    beginTransaction();
    for (let index = 0; index < batch.length; index++) {
      // Between two records: not after the last, which the commit follows at once.
      if (index > 0) breathe();
      writeOne(batch[index]!);
    }
    endTransaction();
  });

  const writeSingle = database.transaction((record: StoredRequestRecord) => {
    beginTransaction();
    writeOne(record);
    endTransaction();
  });

  function toError(error: unknown): Error {
    return error instanceof Error ? error : new Error(String(error));
  }

  /**
   * The chunk's records, rebuilt from what crossed. One whose bodies cannot be read is kept
   * from its journal line (its facts, bodies cut with a warning: the request stays logged) and
   * reported; one whose journal line cannot be read either is reported and left out. The others
   * are written either way. The report names the record, not the parser's message (which quotes
   * the body's text).
   */
  function rebuild(chunk: RecordOnTheWire[]): StoredRequestRecord[] {
    const records: StoredRequestRecord[] = [];
    for (const item of chunk) {
      breathe();
      try {
        records.push(recordFromWire(item));
      } catch (error) {
        const facts = 'journalLine' in item ? factsFromWire(item) : null;
        if (facts) records.push(facts);
        const name = toError(error).name;
        onError(new Error(facts ? `a request record's bodies could not be read (${name}); request ${facts.id} stored without them` : `a request record could not be read (${name})`), null);
      }
    }
    return records;
  }

  function writeChunk(batch: StoredRequestRecord[]): number {
    try {
      const begin = performance.now();
      writeBatch(batch);
      options.onBatchWritten?.(batch.length, performance.now() - begin);
      return batch.length;
    } catch {
      // One bad record must not cost the others: retry one transaction each, dropping failures.
      rollups.clear();
      let written = 0;
      for (const record of batch) {
        try {
          writeSingle(record);
          written += 1;
        } catch (error) {
          rollups.clear();
          // Bodies the writer cannot process (nested too deeply for its recursion): log the request without them.
          // (A database error — busy, full — is not the record's fault: cutting bodies would not help.)
          const databaseError = String((error as { code?: unknown })?.code ?? '').startsWith('SQLITE_');
          if (!databaseError && (record.requestBody !== null || record.upstreamRequestBody !== null || record.responseBody !== null || record.usage?.raw !== undefined)) {
            // The bodies the writer can process alone are kept (the request's, typically, when the
            // upstream's answer is the hostile one); should the record still fail, all are cut.
            const reason = unstorableReason(error);
            const attempts = [() => recordWithoutBodies(record, reason, cloneableBodies(record, processBody)), () => recordWithoutBodies(record, reason)];
            let stored = false;
            for (const reduced of attempts) {
              try {
                writeSingle(reduced());
                stored = true;
                break;
              } catch {
                rollups.clear();
              }
            }
            if (stored) {
              written += 1;
              continue;
            }
          }
          onError(toError(error), record);
        }
      }
      return written;
    }
  }

  function cancelScheduled(): void {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
  }

  function flush(): number {
    cancelScheduled();
    if (pause) workingSince = performance.now();
    let written = 0;
    let complete = true;
    try {
      while (queue.length > 0) {
        const pending = queue;
        queue = [];
        for (let start = 0; start < pending.length; start += maxBatchSize) {
          const chunk = rebuild(pending.slice(start, start + maxBatchSize));
          const chunkWritten = writeChunk(chunk);
          written += chunkWritten;
          if (chunkWritten < chunk.length) complete = false;
        }
      }
    } catch (error) {
      complete = false;
      throw error;
    } finally {
      options.onFlushed?.(complete);
      const resolved = waiters;
      waiters = [];
      for (const resolve of resolved) resolve();
    }
    return written;
  }

  function flushSafely(): void {
    try {
      flush();
    } catch (error) {
      onError(toError(error), null);
    }
  }

  function scheduleImmediate(): void {
    if (immediate) return;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    immediate = setImmediate(() => {
      immediate = null;
      flushSafely();
    });
    immediate.unref();
  }

  return {
    enqueue(record: RecordOnTheWire): void {
      if (closed) {
        onError(new Error('request writer is closed'), 'journalLine' in record ? null : record);
        return;
      }
      queue.push(record);
      if (queue.length >= maxBatchSize || flushIntervalMs === 0) scheduleImmediate();
      else if (!timer && !immediate) {
        timer = setTimeout(() => {
          timer = null;
          flushSafely();
        }, flushIntervalMs);
        timer.unref();
      }
    },
    flush,
    committed(): Promise<void> {
      if (queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    close(): void {
      if (closed) return;
      flush();
      closed = true;
    },
    setStoreBodies(value: boolean): void {
      storeBodies = value;
    },
    setPriceBook(value: PriceBook): void {
      priceBook = value;
    },
    get pendingCount(): number {
      return queue.length;
    },
  };
}
