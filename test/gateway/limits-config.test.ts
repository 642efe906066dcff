/** The `limits` config: rules read into exact numbers, and errors that name the rule and the field. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/main/gateway/config.js';
import { parseLimits } from '../../src/main/gateway/policies/limits-config.js';
import { dayPeriod, monthPeriod } from '../../src/main/gateway/policies/limits-periods.js';

describe('limits config', () => {
  it('reads every kind of rule, budgets as exact nano-dollars', () => {
    const config = loadConfig({
      environment: {},
      file: {
        limits: [
          { match: {}, requestsPerMinute: 100 },
          { name: 'ci', match: { key: 'ci-bot' }, tokensPerMinute: 5000, usdPerDay: '0.50' },
          { match: { tag: 'team:platform', user: 'alice' }, usdPerMonth: 20 },
          { match: { user: 'bob' }, usdPerDay: 0.000000001 },
        ],
      },
    });
    expect(config.limits.map((rule) => [rule.label, rule.requestsPerMinute, rule.tokensPerMinute, rule.usdPerDayNano, rule.usdPerMonthNano])).toEqual([
      ['every request', 100, null, null, null],
      ['ci', null, 5000, 500_000_000, null],
      ['tag team:platform, user alice', null, null, null, 20_000_000_000],
      ['user bob', null, null, 1, null],
    ]);
    expect(config.limits[2]!.match).toEqual({ key: null, tag: { key: 'team', value: 'platform' }, user: 'alice' });
    expect(loadConfig({ environment: {} }).limits).toEqual([]);
  });

  it.each([
    [{ limits: {} }, 'limits must be a list'],
    [{ limits: [{ match: { key: 'a' } }] }, 'limits[0] sets no limit'],
    [{ limits: [{ requestsPerMinute: 1 }, { requestsPerMinute: 0 }] }, 'limits[1].requestsPerMinute must be a whole number of 1 or more, got 0'],
    [{ limits: [{ tokensPerMinute: 2.5 }] }, 'limits[0].tokensPerMinute must be a whole number'],
    [{ limits: [{ usdPerDay: '-1' }] }, 'limits[0].usdPerDay must be an amount of USD'],
    [{ limits: [{ usdPerMonth: 'twenty' }] }, 'limits[0].usdPerMonth must be an amount of USD'],
    [{ limits: [{ match: { tag: 'team' }, requestsPerMinute: 1 }] }, 'limits[0].match.tag must be "key:value"'],
    [{ limits: [{ match: { team: 'a' }, requestsPerMinute: 1 }] }, 'limits[0].match: unknown field "team"'],
    [{ limits: [{ match: { user: '' }, requestsPerMinute: 1 }] }, 'limits[0].match.user must be a non-empty string'],
    [{ limits: [{ rpm: 1 }] }, 'limits[0]: unknown field "rpm"'],
    [{ limits: ['x'] }, 'limits[0] must be an object'],
  ])('refuses %j', (file, message) => {
    expect(() => loadConfig({ environment: {}, file: file as never })).toThrow(message);
  });

  it('numbers rules in the order given', () => {
    expect(parseLimits([{ requestsPerMinute: 1 }, { requestsPerMinute: 2 }]).map((rule) => rule.index)).toEqual([0, 1]);
  });
});

describe('budget periods', () => {
  it('are the local day and month of the zone', () => {
    // 2026-12-06 23:30 in Auckland (UTC+13) is 10:30 UTC the same day.
    const instant = Date.UTC(2026, 11, 6, 10, 30);
    const day = dayPeriod(instant, 'Pacific/Auckland');
    expect(day.label).toBe('2026-12-06');
    expect(day.start).toBe(Date.UTC(2026, 11, 5, 11, 0));
    expect(day.end).toBe(Date.UTC(2026, 11, 6, 11, 0));
    expect(dayPeriod(Date.UTC(2026, 11, 6, 11, 30), 'Pacific/Auckland').label).toBe('2026-12-07');
    const month = monthPeriod(instant, 'America/New_York');
    expect(month).toEqual({ label: '2026-12', start: Date.UTC(2026, 11, 1, 5, 0), end: Date.UTC(2027, 0, 1, 5, 0) });
    // A day with a DST change is 23 hours long.
    const spring = dayPeriod(Date.UTC(2027, 2, 14, 12), 'America/New_York');
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
  });
});
