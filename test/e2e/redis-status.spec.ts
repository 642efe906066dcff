/**
 * `switchyard serve` with SWITCHYARD_REDIS_URL, in Debian's Chromium: Settings → Limits and
 * budgets says the counters are shared through Redis, warns when Redis goes away (requests
 * still answered), and says shared again once Redis is back on its port.
 */
import { expect, test } from '@playwright/test';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/throwaway-redis.js';
import { serveApp, type ServedApp } from './serve-fixture.js';

let served: ServedApp | null = null;
let redis: ThrowawayRedis | null = null;

test.afterAll(async () => {
  await served?.close();
  await redis?.stop();
});

test('Settings shows where limits are counted, and Redis going away and coming back', async ({ page }) => {
  redis = await startThrowawayRedis();
  const port = redis.port;
  served = await serveApp({ environment: { SWITCHYARD_REDIS_URL: redis.url }, config: { limits: [{ match: {}, requestsPerMinute: 100 }] } });
  expect(served.output()).toContain(`Shared through Redis at ${redis.url}`);

  await page.goto(served.uiUrl);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Settings' }).click();
  const line = page.getByTestId('shared-state');
  await expect(line).toContainText(`Shared through Redis at ${redis.url}`);

  await redis.stop();
  await expect(line).toContainText(/is unreachable .*counted by this instance alone/);
  await expect(line).toHaveAttribute('role', 'alert');
  const models = await fetch(`${served.origin}/v1/models`, { headers: { authorization: 'Bearer none' } });
  expect(models.status).toBe(401);

  redis = await startThrowawayRedis({ port });
  await expect(line).toContainText('Shared through Redis');
  await expect(line).not.toHaveAttribute('role', 'alert');
});
