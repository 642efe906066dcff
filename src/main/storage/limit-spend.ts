/**
 * Spend in the request log for the requests one limit rule matches (gateway key by name,
 * tag, user), since an instant: how budgets find what was spent before a restart. The
 * exact cost each row was stored with, summed; by the started_at index.
 */
import type { SqliteDatabase } from './database.js';

export interface SpendMatch {
  key: string | null;
  tag: { key: string; value: string } | null;
  user: string | null;
}

export function spendSince(database: SqliteDatabase, match: SpendMatch, since: number): number {
  const conditions = ['r.started_at >= @since'];
  const parameters: Record<string, string | number> = { since };
  if (match.key !== null) {
    conditions.push('r.gateway_key_id IN (SELECT id FROM gateway_keys WHERE name = @keyName)');
    parameters.keyName = match.key;
  }
  if (match.user !== null) {
    conditions.push('r.user = @user');
    parameters.user = match.user;
  }
  if (match.tag !== null) {
    conditions.push('EXISTS (SELECT 1 FROM request_tags t WHERE t.request_seq = r.seq AND t.key = @tagKey AND t.value = @tagValue)');
    parameters.tagKey = match.tag.key;
    parameters.tagValue = match.tag.value;
  }
  const total = database.prepare(`SELECT COALESCE(SUM(r.cost_nano_usd), 0) FROM requests r WHERE ${conditions.join(' AND ')}`).pluck().get(parameters);
  return Number(total ?? 0);
}
