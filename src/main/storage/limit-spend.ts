/**
 * Spend in the request log for the requests one limit rule matches (gateway key by name,
 * tag, user), since an instant: how budgets find what was spent before a restart. The
 * exact cost each row was stored with, summed; by the started_at index.
 */
import type { SqliteDatabase } from './database.js';
import { rowsOf, runOnSqlite, type Plan } from './sql-plan.js';

export interface SpendMatch {
  key: string | null;
  tag: { key: string; value: string } | null;
  user: string | null;
}

export function spendSince(database: SqliteDatabase, match: SpendMatch, since: number): number {
  return runOnSqlite(database, spendSincePlan(match, since));
}

export function* spendSincePlan(match: SpendMatch, since: number): Plan<number> {
  const conditions = ['r.started_at >= ?'];
  const parameters: Array<string | number> = [since];
  if (match.key !== null) {
    conditions.push('r.gateway_key_id IN (SELECT id FROM gateway_keys WHERE name = ?)');
    parameters.push(match.key);
  }
  if (match.user !== null) {
    conditions.push('r."user" = ?');
    parameters.push(match.user);
  }
  if (match.tag !== null) {
    conditions.push('EXISTS (SELECT 1 FROM request_tags t WHERE t.request_seq = r.seq AND t.key = ? AND t.value = ?)');
    parameters.push(match.tag.key, match.tag.value);
  }
  const [row] = yield* rowsOf<{ total: number | null }>(`SELECT coalesce(sum(r.cost_nano_usd), 0) AS total FROM requests r WHERE ${conditions.join(' AND ')}`, ...parameters);
  return Number(row?.total ?? 0);
}
