/**
 * Rate limits and budgets as a pipeline policy. Before any attempt, every rule matching
 * the request (gateway key name, tag, user) is checked: spend so far today and this month
 * against its budgets, then one atomic `consume` of a request and of the request's
 * estimated prompt tokens against every requests- and tokens-per-minute limit at once (all
 * or nothing, so a refused request takes no one's allowance). Refusals are 429s with
 * `rate_limit_exceeded` or `budget_exceeded`, naming the rule, with `retry-after`.
 *
 * After the call the token estimate is corrected to the real usage, and the request's
 * exact cost (the log's own cost function) is added to the day and month it started in,
 * in the user's time zone. A period's spend is read once from the request log the first
 * time it is needed (spend survives restarts), then kept by adding each request's cost.
 *
 * The policy depends only on SharedCounters, so a shared implementation (Redis) can serve
 * several gateway instances: then a period is read from the log once for all of them, and
 * each request's cost is seen by every instance at once. While Redis is unreachable the
 * counters fall back to this instance's own and the request's record carries a warning.
 */
import type { RequestRecord } from '../../core/record.js';
import type { SharedCounters, CounterCharge } from '../../shared-state/counters.js';
import { recordFallbackWarning } from '../../shared-state/redis-fallback.js';
import { estimateInputTokens } from '../../storage/usage-estimate.js';
import { GatewayError } from '../errors.js';
import type { Policy, PolicyCall, PolicyDecision } from '../pipeline/policy.js';
import type { LimitRule } from './limits-config.js';
import { dayPeriod, monthPeriod, type Period } from './limits-periods.js';

const MINUTE_MS = 60_000;
/** Budget counters hold one entry at their period's start; the window only has to outlive the period. */
const DAY_WINDOW_MS = 2 * 86_400_000;
const MONTH_WINDOW_MS = 32 * 86_400_000;
const PENDING_LIMIT = 100_000;

/** Spend already in the request log for the requests a rule matches, since an instant (nano-dollars). */
export type SpendHistory = (match: LimitRule['match'], since: number) => number | Promise<number>;

/** What a finished request counts for: billed tokens and exact cost (nano-dollars). */
export type RecordAccounting = (record: Readonly<RequestRecord>) => { tokens: number; costNanoUsd: number };

export interface LimitsPolicyOptions {
  rules: LimitRule[];
  counters: SharedCounters;
  accounting: RecordAccounting;
  spendHistory?: SpendHistory;
  /** The IANA zone budgets' days and months are counted in (default: this machine's). */
  timeZone?: () => string;
  now?: () => number;
}

/** One rule and how much of it is used right now. */
export interface LimitUsage {
  rule: LimitRule;
  requestsThisMinute: number;
  tokensThisMinute: number;
  spentTodayNanoUsd: number;
  spentThisMonthNanoUsd: number;
}

interface PendingCall {
  at: number;
  estimate: number;
  tokenKeys: string[];
}

function ruleKey(rule: LimitRule): string {
  return `limits:${rule.index}:${JSON.stringify(rule.match)}`;
}

function formatUsd(nano: number): string {
  const text = (nano / 1e9).toFixed(9).replace(/0+$/, '');
  const [whole, fraction = ''] = text.split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function ruleMatches(rule: LimitRule, call: Pick<PolicyCall, 'gatewayKey' | 'record'>): boolean {
  const { key, tag, user } = rule.match;
  if (key !== null && call.gatewayKey?.name !== key) return false;
  if (user !== null && call.record.user !== user) return false;
  if (tag !== null && !call.record.tags.some((own) => own.key === tag.key && own.value === tag.value)) return false;
  return true;
}

export class LimitsPolicy implements Policy {
  readonly name = 'limits';
  private rules: LimitRule[];
  private readonly counters: SharedCounters;
  private readonly accounting: RecordAccounting;
  private readonly spendHistory: SpendHistory | undefined;
  private readonly timeZone: () => string;
  private readonly now: () => number;
  private readonly pending = new Map<string, PendingCall>();

  constructor(options: LimitsPolicyOptions) {
    this.rules = options.rules;
    this.counters = options.counters;
    this.accounting = options.accounting;
    this.spendHistory = options.spendHistory;
    this.timeZone = options.timeZone ?? (() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    this.now = options.now ?? Date.now;
  }

  get currentRules(): readonly LimitRule[] {
    return this.rules;
  }

  /** The zone budgets are counted in, and today's and this month's labels there. */
  periods(): { timeZone: string; day: string; month: string } {
    const now = this.now();
    const timeZone = this.timeZone();
    return { timeZone, day: dayPeriod(now, timeZone).label, month: monthPeriod(now, timeZone).label };
  }

  /** New rules from Settings; counters of rules whose position and match stay are kept. */
  async setRules(rules: LimitRule[]): Promise<void> {
    const kept = new Set(rules.map(ruleKey));
    for (const rule of this.rules) {
      const key = ruleKey(rule);
      if (kept.has(key)) continue;
      await this.counters.clear(`${key}:`);
    }
    this.rules = rules;
  }

  before(call: PolicyCall): PolicyDecision | Promise<PolicyDecision> {
    if (this.rules.length === 0) return undefined;
    const matching = this.rules.filter((rule) => ruleMatches(rule, call));
    if (matching.length === 0) return undefined;
    return this.check(call, matching);
  }

  private async check(call: PolicyCall, matching: LimitRule[]): Promise<PolicyDecision> {
    const now = this.now();
    // Redis unreachable: this instance counts alone, and the request's record says so.
    const counters = this.counters.noticing?.((warning) => recordFallbackWarning(call.record, warning)) ?? this.counters;

    for (const rule of matching) {
      if (rule.usdPerDayNano === null && rule.usdPerMonthNano === null) continue;
      const refusal = await this.budgetRefusal(rule, now, counters);
      if (refusal) return { refuse: refusal };
    }

    const estimate = estimateInputTokens(call.record.requestBody);
    const charges: Array<CounterCharge & { rule: LimitRule; kind: 'requests' | 'tokens' }> = [];
    for (const rule of matching) {
      if (rule.requestsPerMinute !== null) charges.push({ key: `${ruleKey(rule)}:rpm`, amount: 1, limit: rule.requestsPerMinute, windowMs: MINUTE_MS, rule, kind: 'requests' });
      if (rule.tokensPerMinute !== null) charges.push({ key: `${ruleKey(rule)}:tpm`, amount: estimate, limit: rule.tokensPerMinute, windowMs: MINUTE_MS, rule, kind: 'tokens' });
    }
    const result = charges.length === 0 ? null : await counters.consume(charges, now);
    if (result && !result.allowed) {
      const charge = charges[result.refused]!;
      const retryAfter = seconds(result.retryAfterMs || MINUTE_MS);
      const message =
        charge.kind === 'requests'
          ? `Rate limit exceeded: limit rule "${charge.rule.label}" allows ${charge.limit} requests per minute. Retry in ${retryAfter} s.`
          : charge.amount > charge.limit
            ? `Rate limit exceeded: limit rule "${charge.rule.label}" allows ${charge.limit} tokens per minute, and this request alone is estimated at ${charge.amount}.`
            : `Rate limit exceeded: limit rule "${charge.rule.label}" allows ${charge.limit} tokens per minute (${result.counts[result.refused]} used, this request is estimated at ${charge.amount}). Retry in ${retryAfter} s.`;
      return { refuse: refusal(message, 'rate_limit_exceeded', retryAfter) };
    }
    const tokenKeys = charges.filter((charge) => charge.kind === 'tokens').map((charge) => charge.key);
    if (tokenKeys.length > 0 || matching.some((rule) => rule.usdPerDayNano !== null || rule.usdPerMonthNano !== null)) {
      if (this.pending.size >= PENDING_LIMIT) this.pending.clear();
      this.pending.set(call.id, { at: now, estimate, tokenKeys });
    }
    return undefined;
  }

  after(call: PolicyCall, record: Readonly<RequestRecord>): void {
    const pending = this.pending.get(call.id);
    if (!pending) return;
    this.pending.delete(call.id);
    const { tokens, costNanoUsd } = this.accounting(record);
    // The estimate counted before sending becomes the real usage, at the time it was counted.
    const correction = tokens - pending.estimate;
    if (correction !== 0) for (const key of pending.tokenKeys) void this.counters.add(key, correction, MINUTE_MS, pending.at);
    if (costNanoUsd <= 0) return;
    for (const rule of this.rules) {
      if (rule.usdPerDayNano === null && rule.usdPerMonthNano === null) continue;
      if (!ruleMatches(rule, call)) continue;
      void this.addSpend(rule, record.startedAt, costNanoUsd);
    }
  }

  /** Every rule with its current use (requests and tokens this minute, spend today and this month). */
  async usage(): Promise<LimitUsage[]> {
    const now = this.now();
    const timeZone = this.timeZone();
    const day = dayPeriod(now, timeZone);
    const month = monthPeriod(now, timeZone);
    const views: LimitUsage[] = [];
    for (const rule of this.rules) {
      const key = ruleKey(rule);
      views.push({
        rule,
        requestsThisMinute: await this.counters.read(`${key}:rpm`, MINUTE_MS, now),
        tokensThisMinute: await this.counters.read(`${key}:tpm`, MINUTE_MS, now),
        spentTodayNanoUsd: await this.spent(rule, 'day', day, now),
        spentThisMonthNanoUsd: await this.spent(rule, 'month', month, now),
      });
    }
    return views;
  }

  private async budgetRefusal(rule: LimitRule, now: number, counters: SharedCounters): Promise<GatewayError | null> {
    if (rule.usdPerDayNano === null && rule.usdPerMonthNano === null) return null;
    const timeZone = this.timeZone();
    for (const [kind, budget] of [['day', rule.usdPerDayNano], ['month', rule.usdPerMonthNano]] as const) {
      if (budget === null) continue;
      const period = kind === 'day' ? dayPeriod(now, timeZone) : monthPeriod(now, timeZone);
      const spent = await this.spent(rule, kind, period, now, counters);
      if (spent < budget) continue;
      const when = kind === 'day' ? 'today' : 'this month';
      const resets = kind === 'day' ? 'at midnight' : 'on the first of next month';
      const message = `Budget exceeded: limit rule "${rule.label}" allows ${formatUsd(budget)} per ${kind} and ${formatUsd(spent)} has been spent ${when}. It resets ${resets} (${timeZone}).`;
      return refusal(message, 'budget_exceeded', seconds(period.end - now));
    }
    return null;
  }

  private periodKey(rule: LimitRule, kind: 'day' | 'month', period: Period): string {
    return `${ruleKey(rule)}:${kind}:${period.label}`;
  }

  /** A period's spend: seeded from the log the first time it is needed (see `seed`), then counted. */
  private async spent(rule: LimitRule, kind: 'day' | 'month', period: Period, now: number, counters = this.counters): Promise<number> {
    const key = await this.seed(rule, kind, period, counters);
    return counters.read(key, kind === 'day' ? DAY_WINDOW_MS : MONTH_WINDOW_MS, Math.max(now, period.start));
  }

  /**
   * A period's counter starts from the spend the log holds, once per counter: once per process
   * in process, once for all instances when the counters are shared (Redis), and again when a
   * shared store lost its data (a Redis restarted without persistence).
   */
  private async seed(rule: LimitRule, kind: 'day' | 'month', period: Period, counters = this.counters): Promise<string> {
    const key = this.periodKey(rule, kind, period);
    await counters.seedOnce(key, kind === 'day' ? DAY_WINDOW_MS : MONTH_WINDOW_MS, period.start, () => this.spendHistory?.(rule.match, period.start) ?? 0);
    return key;
  }

  private async addSpend(rule: LimitRule, startedAt: number, costNanoUsd: number): Promise<void> {
    const timeZone = this.timeZone();
    for (const kind of ['day', 'month'] as const) {
      if ((kind === 'day' ? rule.usdPerDayNano : rule.usdPerMonthNano) === null) continue;
      const period = kind === 'day' ? dayPeriod(startedAt, timeZone) : monthPeriod(startedAt, timeZone);
      // A period first seen now is read from the log, which does not hold this request yet.
      const key = await this.seed(rule, kind, period);
      await this.counters.add(key, costNanoUsd, kind === 'day' ? DAY_WINDOW_MS : MONTH_WINDOW_MS, period.start);
    }
  }
}

function refusal(message: string, code: 'rate_limit_exceeded' | 'budget_exceeded', retryAfterSeconds: number): GatewayError {
  // The code is also the type, so the request log (which keeps the type) says why it was refused.
  return new GatewayError(429, message, { type: code, code, headers: { 'retry-after': String(retryAfterSeconds) } });
}
