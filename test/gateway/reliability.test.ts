import { describe, expect, it } from 'vitest';
import { CircuitBreakers, type BreakerConfig } from '../../src/main/gateway/routing/circuit-breaker.js';
import { ConcurrencyGates } from '../../src/main/gateway/routing/concurrency-gate.js';
import { GatewayError } from '../../src/main/gateway/errors.js';
import { backoffDelayMs, DEFAULT_RETRY_CONFIG, isRetryableStatus, requestedRetryDelayMs, RetryBudget, sleep } from '../../src/main/gateway/routing/retry-policy.js';

describe('retry policy', () => {
  it('retries the statuses that may change and no others', () => {
    for (const status of [408, 409, 429, 500, 501, 502, 503, 504, 529]) expect(isRetryableStatus(status), String(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 422, 505, 520]) expect(isRetryableStatus(status), String(status)).toBe(false);
  });

  it('reads retry-after-ms, retry-after in seconds and as a date, and Gemini RetryInfo', () => {
    expect(requestedRetryDelayMs({ 'retry-after-ms': '1500', 'retry-after': '9' })).toBe(1500);
    expect(requestedRetryDelayMs({ 'retry-after': '2' })).toBe(2000);
    expect(requestedRetryDelayMs({ 'retry-after': '0.5' })).toBe(500);
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(requestedRetryDelayMs({ 'retry-after': 'Sun, 06 Dec 2026 10:00:03 GMT' }, null, now)).toBe(3000);
    expect(requestedRetryDelayMs({ 'retry-after': 'Sun, 06 Dec 2026 09:00:00 GMT' }, null, now)).toBe(0);
    const gemini = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' },
        ],
      },
    };
    expect(requestedRetryDelayMs({}, gemini)).toBe(1500);
    expect(requestedRetryDelayMs({ 'retry-after': 'soon' })).toBeNull();
    expect(requestedRetryDelayMs({})).toBeNull();
  });

  it('backs off exponentially with jitter between half and all of each step, capped', () => {
    const config = { ...DEFAULT_RETRY_CONFIG, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, config, () => 0)).toBe(50);
    expect(backoffDelayMs(0, config, () => 1)).toBe(100);
    expect(backoffDelayMs(2, config, () => 1)).toBe(400);
    expect(backoffDelayMs(10, config, () => 1)).toBe(1000);
    expect(backoffDelayMs(10, config, () => 0)).toBe(500);
  });

  it('bounds retries by count and total wait, and skips waits longer than what is left', () => {
    const budget = new RetryBudget({ maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, maxTotalWaitMs: 1500 }, () => 1);
    expect(budget.nextDelay(0, null)).toBe(100);
    expect(budget.nextDelay(1, 1000)).toBe(1000);
    // 400 left: a requested 600 ms is not waited for.
    expect(budget.nextDelay(2, 600)).toBeNull();
    expect(budget.nextDelay(2, null)).toBe(400);
    expect(budget.nextDelay(3, null)).toBeNull();
    expect(budget.totalWaitMs).toBe(1500);
    expect(new RetryBudget({ ...DEFAULT_RETRY_CONFIG, maxRetries: 0 }).nextDelay(0, null)).toBeNull();
  });

  it('sleep ends early with an AbortError when its signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('circuit breakers', () => {
  const config: BreakerConfig = { failureThreshold: 3, failureRate: 0.5, window: 10, minimumRequests: 6, openMs: 1000 };

  it('opens after consecutive failures, probes once when half-open, closes on success', () => {
    let now = 0;
    const changes: string[] = [];
    const breakers = new CircuitBreakers(config, () => now, (snapshot) => changes.push(`${snapshot.key}:${snapshot.state}`));
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(true);
    breakers.failure('openai', 'gpt-4.1', '500 boom');
    breakers.failure('openai', 'gpt-4.1', '500 boom');
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(true);
    breakers.failure('openai', 'gpt-4.1', '503 overloaded');
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(false);
    // The provider circuit is open too: its other models wait as well.
    expect(breakers.allow('openai', 'gpt-4.1-mini')).toBe(false);
    expect(breakers.retryAt('openai', 'gpt-4.1')).toBe(1000);
    now = 999;
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(false);
    now = 1000;
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(true); // the probe
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(false); // only one
    breakers.success('openai', 'gpt-4.1');
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(true);
    expect(breakers.allow('openai', 'gpt-4.1-mini')).toBe(true);
    expect(breakers.snapshot().every((snapshot) => snapshot.state === 'closed')).toBe(true);
    expect(changes).toEqual(['openai:open', 'openai\u0000gpt-4.1:open', 'openai:half-open', 'openai\u0000gpt-4.1:half-open', 'openai:closed', 'openai\u0000gpt-4.1:closed']);
  });

  it('a failed probe opens the circuit again for the full wait', () => {
    let now = 0;
    const breakers = new CircuitBreakers(config, () => now);
    for (let i = 0; i < 3; i++) breakers.failure('xai', 'grok-3', 'timeout');
    now = 1000;
    expect(breakers.allow('xai', 'grok-3')).toBe(true);
    breakers.failure('xai', 'grok-3', 'timeout');
    expect(breakers.allow('xai', 'grok-3')).toBe(false);
    now = 1999;
    expect(breakers.allow('xai', 'grok-3')).toBe(false);
    now = 2000;
    expect(breakers.allow('xai', 'grok-3')).toBe(true);
  });

  it('a probe that never reports back does not hold the circuit half-open for good', () => {
    let now = 0;
    const breakers = new CircuitBreakers(config, () => now);
    for (let i = 0; i < 3; i++) breakers.failure('xai', 'grok-3', 'timeout');
    now = 1000;
    expect(breakers.allow('xai', 'grok-3')).toBe(true);
    now = 1500;
    expect(breakers.allow('xai', 'grok-3')).toBe(false);
    now = 2000;
    expect(breakers.allow('xai', 'grok-3')).toBe(true);
  });

  it('opens on the failure rate over the window even when failures alternate with successes', () => {
    const breakers = new CircuitBreakers(config, () => 0);
    // Outcomes are remembered from a circuit's first failure on (a healthy provider costs nothing).
    breakers.failure('gemini', 'gemini-2.5-pro', 'x');
    for (let i = 0; i < 3; i++) {
      expect(breakers.allow('gemini', 'gemini-2.5-pro')).toBe(true);
      breakers.success('gemini', 'gemini-2.5-pro');
      breakers.failure('gemini', 'gemini-2.5-pro', 'x');
    }
    // 4 failures in 7 outcomes: over the rate once the window holds enough, never 3 in a row.
    expect(breakers.allow('gemini', 'gemini-2.5-pro')).toBe(false);
  });

  it('a per-model failure leaves the provider\'s other models alone', () => {
    const breakers = new CircuitBreakers(config, () => 0);
    for (let i = 0; i < 3; i++) breakers.failure('anthropic', 'claude-opus-4-1', '529 overloaded', 'model');
    expect(breakers.allow('anthropic', 'claude-opus-4-1')).toBe(false);
    expect(breakers.allow('anthropic', 'claude-sonnet-4-6')).toBe(true);
    breakers.reset('anthropic');
    expect(breakers.allow('anthropic', 'claude-opus-4-1')).toBe(true);
    expect(breakers.snapshot()).toEqual([]);
  });

  it("adopts another instance's open and closed circuits, not its half-open ones, and tells onChange", () => {
    let now = 5_000;
    const changes: string[] = [];
    const breakers = new CircuitBreakers(config, () => now, (snapshot) => changes.push(`${snapshot.key}:${snapshot.state}`));
    breakers.adopt({ provider: 'openai', model: null, state: 'open', openedAt: 4_500, lastError: '500 boom' });
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(false);
    expect(breakers.retryAt('openai', 'gpt-4.1')).toBe(5_500);
    // An older opening changes nothing; a half-open one is each instance's own business.
    breakers.adopt({ provider: 'openai', model: null, state: 'open', openedAt: 4_000, lastError: 'older' });
    breakers.adopt({ provider: 'openai', model: null, state: 'half-open', openedAt: 4_500, lastError: null });
    expect(breakers.snapshot()).toMatchObject([{ key: 'openai', state: 'open', openedAt: 4_500, lastError: '500 boom' }]);
    // Its open time runs from the other instance's opening: the probe goes at 5,500.
    now = 5_500;
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(true);
    breakers.adopt({ provider: 'openai', model: null, state: 'closed', openedAt: null, lastError: null });
    expect(breakers.allow('openai', 'gpt-4.1')).toBe(true);
    expect(breakers.snapshot()).toMatchObject([{ key: 'openai', state: 'closed', consecutiveFailures: 0 }]);
    expect(changes).toEqual(['openai:open', 'openai:half-open', 'openai:closed']);
    // A closed circuit this instance never had stays unknown.
    breakers.adopt({ provider: 'anthropic', model: 'claude', state: 'closed', openedAt: null, lastError: null });
    expect(breakers.snapshot()).toHaveLength(1);
  });
});

describe('concurrency gates', () => {
  it('lets the limit through, queues the next ones in order, and refuses beyond the queue with a 429', async () => {
    const gates = new ConcurrencyGates();
    gates.configure('ollama', 'Ollama', { limit: 2, queue: 1, maxWaitMs: 5_000 });
    const first = await gates.acquire('ollama');
    const second = await gates.acquire('ollama');
    let thirdIn = false;
    const third = Promise.resolve(gates.acquire('ollama')).then((release) => {
      thirdIn = true;
      return release;
    });
    const refused = await Promise.resolve(gates.acquire('ollama')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).status).toBe(429);
    expect((refused as GatewayError).headers['retry-after']).toMatch(/^\d+$/);
    expect((refused as GatewayError).message).toContain('Ollama is busy');
    expect(gates.snapshot()).toEqual([{ provider: 'ollama', active: 2, waiting: 1, limit: 2, queue: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(thirdIn).toBe(false);
    first();
    first(); // a second release is ignored
    const releaseThird = await third;
    expect(thirdIn).toBe(true);
    expect(gates.snapshot()[0]).toMatchObject({ active: 2, waiting: 0 });
    second();
    releaseThird();
    expect(gates.snapshot()[0]).toMatchObject({ active: 0, waiting: 0 });
  });

  it('a wait past maxWaitMs is a 429, and an aborted wait leaves the queue', async () => {
    const gates = new ConcurrencyGates();
    gates.configure('lmstudio', 'LM Studio', { limit: 1, queue: 5, maxWaitMs: 30 });
    const release = await gates.acquire('lmstudio');
    await expect(Promise.resolve(gates.acquire('lmstudio'))).rejects.toMatchObject({ status: 429 });
    const controller = new AbortController();
    const waiting = Promise.resolve(gates.acquire('lmstudio', () => controller.signal));
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(gates.snapshot()[0]).toMatchObject({ active: 1, waiting: 0 });
    release();
    expect(gates.snapshot()[0]).toMatchObject({ active: 0 });
  });

  it('costs nothing for a provider without a limit', () => {
    const gates = new ConcurrencyGates();
    const release = gates.acquire('openai');
    expect(typeof release).toBe('function');
    (release as () => void)();
    expect(gates.snapshot()).toEqual([]);
  });
});
