/**
 * The `limits` key of the config file (and of the app's settings): a list of rules, each
 * matching requests by gateway key name, tag and user (all that are given; none: every
 * request) and capping requests and tokens per minute and spend per day and per month.
 * Read once here into exact numbers (budgets in nano-dollars), with errors that name the
 * rule and the field.
 */
import { ConfigError } from '../config.js';

export interface LimitMatch {
  /** A gateway key's name (the key may be created later). */
  key?: string;
  /** `key:value`, from `x-tags` or the gateway key's default tags. */
  tag?: string;
  /** The body's `user` or `x-user-id`. */
  user?: string;
}

/** A rule as written in the config file and edited in Settings. */
export interface LimitRuleInput {
  name?: string;
  match?: LimitMatch;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** USD as a decimal string ("0.50") or a number. */
  usdPerDay?: string | number;
  usdPerMonth?: string | number;
}

export interface LimitRule {
  /** Position in the list (0-based). */
  index: number;
  /** What messages call the rule: its `name`, else a description of its match. */
  label: string;
  match: { key: string | null; tag: { key: string; value: string } | null; user: string | null };
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  usdPerDayNano: number | null;
  usdPerMonthNano: number | null;
  /** The rule as given, for Settings. */
  input: LimitRuleInput;
}

const RULE_FIELDS = new Set(['name', 'match', 'requestsPerMinute', 'tokensPerMinute', 'usdPerDay', 'usdPerMonth']);
const MATCH_FIELDS = new Set(['key', 'tag', 'user']);
const NANO_PER_USD = 1_000_000_000;
const MAX_RULES = 200;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchText(where: string, value: unknown, field: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 200) throw new ConfigError(`${where}.match.${field} must be a non-empty string`);
  return value.trim();
}

function perMinute(where: string, value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ConfigError(`${where}.${field} must be a whole number of 1 or more, got ${JSON.stringify(value)}`);
  return value;
}

/** "0.50" or 0.5 → 500000000 nano-dollars, exactly (at most 9 decimals). */
export function usdToNano(where: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  // A JSON number is a binary float: read it to 9 decimals (1e-9 → "0.000000001"), not via its exponent form.
  const text = typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value.toFixed(9) : value;
  const parts = typeof text === 'string' ? /^(\d{1,9})(?:\.(\d{1,9}))?$/.exec(text.trim()) : null;
  if (!parts) throw new ConfigError(`${where} must be an amount of USD such as "0.50" (0 or more, at most 9 decimals), got ${JSON.stringify(value)}`);
  return Number(parts[1]) * NANO_PER_USD + Number((parts[2] ?? '').padEnd(9, '0'));
}

function describe(match: LimitRule['match']): string {
  const parts: string[] = [];
  if (match.key !== null) parts.push(`key ${match.key}`);
  if (match.tag !== null) parts.push(`tag ${match.tag.key}:${match.tag.value}`);
  if (match.user !== null) parts.push(`user ${match.user}`);
  return parts.length === 0 ? 'every request' : parts.join(', ');
}

function parseRule(value: unknown, index: number): LimitRule {
  const where = `limits[${index}]`;
  if (!isObject(value)) throw new ConfigError(`${where} must be an object such as {"match": {"key": "ci"}, "requestsPerMinute": 60}`);
  for (const field of Object.keys(value)) {
    if (!RULE_FIELDS.has(field)) throw new ConfigError(`${where}: unknown field "${field}" (expected name, match, requestsPerMinute, tokensPerMinute, usdPerDay, usdPerMonth)`);
  }
  const rawMatch = value.match ?? {};
  if (!isObject(rawMatch)) throw new ConfigError(`${where}.match must be an object with key, tag and/or user ({} matches every request)`);
  for (const field of Object.keys(rawMatch)) {
    if (!MATCH_FIELDS.has(field)) throw new ConfigError(`${where}.match: unknown field "${field}" (expected key, tag or user)`);
  }
  const tagText = matchText(where, rawMatch.tag, 'tag');
  let tag: LimitRule['match']['tag'] = null;
  if (tagText !== null) {
    const colon = tagText.indexOf(':');
    if (colon <= 0) throw new ConfigError(`${where}.match.tag must be "key:value", got ${JSON.stringify(tagText)}`);
    tag = { key: tagText.slice(0, colon).trim(), value: tagText.slice(colon + 1).trim() };
  }
  const match = { key: matchText(where, rawMatch.key, 'key'), tag, user: matchText(where, rawMatch.user, 'user') };
  if (value.name !== undefined && (typeof value.name !== 'string' || value.name.trim().length === 0 || value.name.length > 100)) {
    throw new ConfigError(`${where}.name must be a non-empty string of at most 100 characters`);
  }
  const rule: LimitRule = {
    index,
    label: typeof value.name === 'string' ? value.name.trim() : describe(match),
    match,
    requestsPerMinute: perMinute(where, value.requestsPerMinute, 'requestsPerMinute'),
    tokensPerMinute: perMinute(where, value.tokensPerMinute, 'tokensPerMinute'),
    usdPerDayNano: usdToNano(`${where}.usdPerDay`, value.usdPerDay),
    usdPerMonthNano: usdToNano(`${where}.usdPerMonth`, value.usdPerMonth),
    input: structuredClone(value) as LimitRuleInput,
  };
  if (rule.requestsPerMinute === null && rule.tokensPerMinute === null && rule.usdPerDayNano === null && rule.usdPerMonthNano === null) {
    throw new ConfigError(`${where} sets no limit: give requestsPerMinute, tokensPerMinute, usdPerDay or usdPerMonth`);
  }
  return rule;
}

/** The `limits` list, validated; throws a ConfigError naming the rule and field. */
export function parseLimits(value: unknown): LimitRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError('limits must be a list of rules such as [{"match": {"key": "ci"}, "requestsPerMinute": 60}]');
  if (value.length > MAX_RULES) throw new ConfigError(`limits may hold at most ${MAX_RULES} rules`);
  return value.map(parseRule);
}
