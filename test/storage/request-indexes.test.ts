/**
 * Every index on `requests` costs each logged request a B-tree insert, so each must serve a
 * read the app makes: this runs the app's own reads (the inspector's list with each filter, a
 * request's detail, a conversation, a stored response and its chain, budgets' spend) and reads
 * SQLite's plan for every statement they prepare.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/main/storage/database.js';
import { conversationPlan } from '../../src/main/storage/analytics.js';
import { spendSince } from '../../src/main/storage/limit-spend.js';
import { getRequest, listRequests } from '../../src/main/storage/request-log-queries.js';
import { runOnSqlite } from '../../src/main/storage/sql-plan.js';
import { responseChainPlan, storedResponsePlan } from '../../src/main/storage/stored-responses.js';
import { removeDirectory, temporaryDirectory } from './request-record-fixture.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) removeDirectory(directory);
});

/** The plan of every statement prepared on `database` from now on, by its SQL. */
function recordPlans(database: SqliteDatabase): Map<string, string[]> {
  const plans = new Map<string, string[]>();
  const prepare = database.prepare.bind(database);
  database.prepare = ((sql: string) => {
    if (!plans.has(sql) && /^\s*(SELECT|WITH)/i.test(sql)) {
      // The app's SQL has no `?` inside literals (sql-plan.ts says so for PostgreSQL's numbering too).
      const parameters = new Array((sql.match(/\?/g) ?? []).length).fill(null);
      plans.set(sql, (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as Array<{ detail: string }>).map((row) => row.detail));
    }
    return prepare(sql);
  }) as typeof database.prepare;
  return plans;
}

function indexesOf(details: string[]): string[] {
  return details.flatMap((detail) => [.../USING (?:COVERING )?INDEX (\w+)/.exec(detail)?.slice(1) ?? []]);
}

describe('the indexes on requests', () => {
  it('each serves one of the app’s reads, and each filter reads by its own index', () => {
    const directory = temporaryDirectory();
    directories.push(directory);
    const database = openDatabase(directory);
    const plans = recordPlans(database);
    const planOf = (read: () => unknown): string[] => {
      const before = new Set(plans.keys());
      read();
      return [...plans].filter(([sql]) => !before.has(sql)).flatMap(([, details]) => details);
    };

    const byFilter = {
      none: planOf(() => listRequests(database, {}, 50)),
      provider: planOf(() => listRequests(database, { provider: ['openai'] }, 50)),
      model: planOf(() => listRequests(database, { model: ['gpt-4.1'] }, 50)),
      key: planOf(() => listRequests(database, { gatewayKey: ['key-1'] }, 50)),
      conversation: planOf(() => listRequests(database, { conversationId: 'c_1' }, 50)),
    };
    const detail = planOf(() => getRequest(database, 'req_1'));
    const conversation = planOf(() => runOnSqlite(database, conversationPlan('c_1')));
    const response = planOf(() => runOnSqlite(database, storedResponsePlan('resp_1')));
    const chain = planOf(() => runOnSqlite(database, responseChainPlan('resp_1', 10)));
    const spendByUser = planOf(() => spendSince(database, { key: null, tag: null, user: 'alice' }, 0));
    const spendByKey = planOf(() => spendSince(database, { key: 'laptop', tag: null, user: null }, 0));

    expect(indexesOf(byFilter.provider)).toContain('requests_provider');
    expect(indexesOf(byFilter.key)).toContain('requests_gateway_key');
    expect(indexesOf(byFilter.conversation)).toContain('requests_conversation');
    expect(indexesOf(conversation)).toContain('requests_conversation');
    expect(indexesOf(byFilter.none)).toContain('requests_started_at');
    // A model filter matches resolved or requested model: newest first along started_at.
    expect(indexesOf(byFilter.model)).toContain('requests_started_at');
    expect(indexesOf(spendByUser)).toContain('requests_user');
    expect(indexesOf(spendByKey)).toContain('requests_gateway_key');
    expect(indexesOf([...response, ...chain])).toContain('requests_response_id');

    const used = new Set(indexesOf([...Object.values(byFilter).flat(), ...detail, ...conversation, ...response, ...chain, ...spendByUser, ...spendByKey]));
    const onRequests = database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests' ORDER BY name").pluck().all() as string[];
    // The id's own (UNIQUE) index finds a request by id.
    expect(onRequests.filter((name) => !used.has(name))).toEqual([]);
    database.close();
  });
});
