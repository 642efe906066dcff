/**
 * Read queries written once for both stores. A query function is a generator (a "plan")
 * that yields the statements it needs, in steps of statements that do not depend on each
 * other (rowsOfEach), and receives their rows; one runner executes it on
 * SQLite synchronously (prepared statements, cached per connection, one read transaction
 * so every statement sees one snapshot), another on PostgreSQL asynchronously (one
 * REPEATABLE READ, read-only transaction: the same guarantee; a step's statements go out
 * together, one round trip per step rather than per statement). So the analytics and
 * inspector logic (which rollup rows, which raw edges, how they merge) exists once, and
 * the desktop app keeps its synchronous calls.
 *
 * The SQL is the subset both engines read alike: `?` placeholders (numbered for
 * PostgreSQL here), `coalesce(sum(…), 0)` rather than SQLite's total(), CASE rather than
 * booleans as numbers, double-quoted camelCase aliases and "user". Where the engines
 * really differ (building a JSON array), the plan asks its `SqlDialect`.
 */
import { createHash } from 'node:crypto';
import type { SqliteDatabase, SqliteStatement } from './database.js';
import type { PostgresClient, PostgresPool } from './postgres/connection.js';

export type Row = Record<string, unknown>;

export interface PlannedQuery {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * A read: yields steps (statements that do not depend on each other's rows), receives
 * their rows (one list per statement), returns the result.
 */
export type Plan<Result> = Generator<readonly PlannedQuery[], Result, Row[][]>;

/** One statement's rows, inside a plan: `const rows = yield* rowsOf<MyRow>(sql, a, b)`. */
export function* rowsOf<T = Row>(sql: string, ...parameters: unknown[]): Generator<readonly PlannedQuery[], T[], Row[][]> {
  const [rows] = yield [{ sql, parameters }];
  return (rows ?? []) as T[];
}

/**
 * Several independent statements' rows, in their order, inside a plan. SQLite runs them
 * one after the other as ever; PostgreSQL receives them together (one round trip).
 */
export function* rowsOfEach(queries: readonly PlannedQuery[]): Generator<readonly PlannedQuery[], Row[][], Row[][]> {
  if (queries.length === 0) return [];
  return yield queries;
}

/** What differs between the engines' SQL. */
export interface SqlDialect {
  engine: 'sqlite' | 'postgres';
  /** `[{"key":…,"value":…}]` for the tags of request `r` (text; `[]` when none). */
  tagsJson: string;
  /** SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE is the same. */
  like: 'LIKE' | 'ILIKE';
  /** `column IN (?, …)` with one parameter per value on SQLite; `column = ANY(?)` with one array on PostgreSQL (one plan for any length). */
  inList(column: string, values: readonly unknown[]): { sql: string; parameters: unknown[] };
  /**
   * `column IN (subquery)` on SQLite; `column = ANY(ARRAY(subquery))` on PostgreSQL, which
   * runs the subquery once and then reads the column's index (a plain IN may hash-join
   * the whole table under a generic prepared plan).
   */
  inSubquery(column: string, subquery: string): string;
}

export const SQLITE_DIALECT: SqlDialect = {
  engine: 'sqlite',
  tagsJson: "(SELECT json_group_array(json_object('key', t.key, 'value', t.value)) FROM request_tags t WHERE t.request_seq = r.seq)",
  like: 'LIKE',
  inList: (column, values) => ({ sql: `${column} IN (${values.map(() => '?').join(', ')})`, parameters: [...values] }),
  inSubquery: (column, subquery) => `${column} IN (${subquery})`,
};

export const POSTGRES_DIALECT: SqlDialect = {
  engine: 'postgres',
  tagsJson: "(SELECT coalesce(json_agg(json_build_object('key', t.key, 'value', t.value)), '[]')::text FROM request_tags t WHERE t.request_seq = r.seq)",
  like: 'ILIKE',
  inList: (column, values) => ({ sql: `${column} = ANY(?)`, parameters: [[...values]] }),
  inSubquery: (column, subquery) => `${column} = ANY(ARRAY(${subquery}))`,
};

const statementCache = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

function sqliteStatement(database: SqliteDatabase, sql: string): SqliteStatement {
  let statements = statementCache.get(database);
  if (!statements) {
    statements = new Map();
    statementCache.set(database, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = database.prepare(sql);
    // Plans with a variable number of `?` (IN lists) make many texts: keep only the first few hundred.
    if (statements.size < 300) statements.set(sql, statement);
  }
  return statement;
}

/** Runs a plan on SQLite in one read transaction (or the caller's). */
export function runOnSqlite<Result>(database: SqliteDatabase, plan: Plan<Result>): Result {
  const body = (): Result => {
    let step = plan.next();
    while (!step.done) step = plan.next(step.value.map((query) => sqliteStatement(database, query.sql).all(...query.parameters) as Row[]));
    return step.value;
  };
  return database.inTransaction ? body() : database.transaction(body)();
}

const numbered = new Map<string, string>();

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the shared SQL has no `?` inside literals). */
export function postgresText(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let index = 0;
    text = sql.replace(/\?/g, () => `$${(index += 1)}`);
    if (numbered.size < 1000) numbered.set(sql, text);
  }
  return text;
}

const preparedNames = new Map<string, string>();

/**
 * A named (prepared) statement for each distinct text, so PostgreSQL parses and plans it
 * once per connection; beyond a few hundred texts (IN lists of every length) unnamed ones.
 */
function postgresQuery(sql: string, parameters: readonly unknown[]): { name?: string; text: string; values: unknown[] } {
  const text = postgresText(sql);
  let name = preparedNames.get(text);
  if (name === undefined && parameters.length <= 32 && preparedNames.size < 300) {
    name = `switchyard-plan-${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    preparedNames.set(text, name);
  }
  return name === undefined ? { text, values: [...parameters] } : { name, text, values: [...parameters] };
}

/**
 * node-postgres sends a client's queries one at a time unless the client is in pipeline
 * mode (pg 8.23: `pipeline`, read each time the queue is pulsed). A plan's connection is
 * switched to it while the plan runs, so the statements of one step (and BEGIN with the
 * first) go out together, and switched back, idle, before the pool gets it again.
 */
function setPipelined(client: PostgresClient, on: boolean): void {
  (client as unknown as { pipeline: boolean }).pipeline = on;
}

/** Every query's result, once all have answered (a failure is thrown after the others settled, so none is left unhandled). */
async function allAnswered<T>(queries: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(queries);
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/** Runs a plan on PostgreSQL; a plan of several statements reads one snapshot. */
export async function runOnPostgres<Result>(pool: PostgresPool, plan: Plan<Result>): Promise<Result> {
  let step = plan.next();
  if (step.done) return step.value;
  const client = await pool.connect();
  setPipelined(client, true);
  try {
    let begin: Promise<unknown> | null = client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    while (!step.done) {
      const answers = step.value.map((query) => client.query(postgresQuery(query.sql, query.parameters)));
      const results = await allAnswered<{ rows: unknown[] }>(begin ? [begin as Promise<{ rows: unknown[] }>, ...answers] : answers);
      if (begin) results.shift();
      begin = null;
      step = plan.next(results.map((result) => result.rows as Row[]));
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    setPipelined(client, false);
    // Given the error, the pool destroys the connection instead of lending out one that may be dead.
    client.release(error as Error);
    throw error;
  }
  setPipelined(client, false);
  // A read-only transaction's COMMIT cannot fail: not waited for. The connection's own
  // queue sends it before anything the pool's next user asks of this connection.
  client.query('COMMIT').catch(() => undefined);
  client.release();
  return step.value;
}
