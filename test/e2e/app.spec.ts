/**
 * The UI driven as a new user would, in Debian's Chromium against `switchyard serve` with
 * provider fakes: add and test a key, chat in the playground with a streamed reply, watch
 * requests appear live in the inspector and open one, see the conversation, see the
 * charts drawn with the new data, create and revoke a gateway key; and, against a second
 * gateway whose circuits open at the first failure, see a failing provider's circuit on
 * the Providers screen and reset it. Every screen is saved as a screenshot in
 * test-results/screens/, and none may log a console error.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { OPENAI_TEST_KEY, serveApp, type ServedApp } from './serve-fixture.js';

const SCREENS = 'test-results/screens';
let served: ServedApp;

test.beforeAll(async () => {
  mkdirSync(SCREENS, { recursive: true });
  served = await serveApp();
});

test.afterAll(async () => {
  await served?.close();
});

async function screenshot(page: Page, name: string): Promise<void> {
  // Let charts and transitions settle so the picture is what a person sees.
  await page.waitForTimeout(250);
  await page.screenshot({ path: `${SCREENS}/${name}.png` });
}

async function go(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: label }).click();
}

async function streamThroughGateway(key: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
  const response = await fetch(`${served.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-tags': 'team:qa, feature:e2e' },
    body: JSON.stringify({ stream: true, ...body }),
    signal,
  });
  expect(response.status).toBe(200);
  return response.text();
}

test('a new user sets up keys, chats, inspects, and reads the numbers', async ({ page }) => {
  page.on('dialog', (dialog) => void dialog.accept());
  // Every screen must load without a console error (a refused resource, a policy the page cannot apply, an exception).
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} at ${message.location().url}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));

  await test.step('the UI opens with the token from the URL and hides it', async () => {
    await page.goto(served.uiUrl);
    await expect(page.getByTestId('gateway-url')).toHaveText(`${served.origin}/v1`);
    expect(page.url()).not.toContain('token=');
    await expect(page.getByText('No requests yet')).toBeVisible();
    await screenshot(page, '01-inspector-empty');
    await go(page, 'Analytics');
    await expect(page.getByText('No traffic in this range')).toBeVisible();
    await screenshot(page, '01b-analytics-empty');
    await go(page, 'Conversations');
    await expect(page.getByText('No conversations yet')).toBeVisible();
    await screenshot(page, '01c-conversations-empty');
    await go(page, 'Inspector');
  });

  await test.step('the admin API refuses requests without the token', async () => {
    const refused = await fetch(`${served.origin}/admin/api/gateway.status`, { method: 'POST', body: 'null' });
    expect(refused.status).toBe(401);
  });

  await test.step('add a provider key, see it refused, replace it, test it', async () => {
    await go(page, 'Providers & keys');
    const card = page.locator('[data-provider="openai"]');
    await expect(card.getByTestId('provider-state-openai')).toHaveText('Missing');
    await expect(page.getByTestId('provider-state-anthropic')).toHaveText('Environment');
    await expect(page.getByTestId('provider-state-ollama')).toHaveText('Detected');
    await card.getByRole('button', { name: 'Set key' }).click();
    await card.getByLabel('OpenAI API key').fill('sk-wrong-key-000000000000');
    await card.getByRole('button', { name: 'Save' }).click();
    await expect(card.getByTestId('provider-state-openai')).toHaveText('Invalid');
    await expect(card.getByTestId('provider-test-openai')).toContainText('refused the key');
    await card.getByRole('button', { name: 'Replace key' }).click();
    await card.getByLabel('OpenAI API key').fill(OPENAI_TEST_KEY);
    await card.getByRole('button', { name: 'Save' }).click();
    await expect(card.getByTestId('provider-state-openai')).toHaveText('Keychain');
    await expect(card.getByTestId('provider-test-openai')).toContainText('Key works');
    // Masked everywhere: the key itself never reaches the page.
    await expect(card).toContainText('sk-…');
    expect(await page.content()).not.toContain(OPENAI_TEST_KEY);
    await screenshot(page, '02-providers');
  });

  let gatewayKey = '';
  await test.step('create a gateway key, shown once', async () => {
    await page.getByLabel('Name').fill('CI script');
    await page.getByLabel('Tags').fill('team:qa');
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = page.getByTestId('created-key');
    await expect(created).toContainText('you will not see it again');
    gatewayKey = (await created.locator('code').textContent()) ?? '';
    expect(gatewayKey).toMatch(/^sy-/);
    await expect(page.locator('tr[data-key-name="CI script"]')).toContainText('team:qa');
    await screenshot(page, '03-gateway-key-created');
    await created.getByRole('button', { name: 'Done' }).click();
    await expect(created).toHaveCount(0);
  });

  await test.step('chat in the playground with a streamed Markdown reply', async () => {
    await go(page, 'Playground');
    const picker = page.getByRole('combobox', { name: 'Model' });
    await picker.click();
    await expect(page.getByRole('listbox', { name: 'Models' })).toContainText('gpt-4.1-mini');
    await expect(page.getByRole('listbox', { name: 'Models' })).toContainText('claude-sonnet-4-6');
    await picker.fill('4.1-mini');
    await page.getByRole('option', { name: /gpt-4\.1-mini/ }).first().click();
    await page.getByLabel('System prompt').fill('You are terse.');
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Write **bold** words');
    await composer.press('Enter');
    const reply = page.getByRole('article', { name: 'Assistant reply' }).last();
    await expect(reply).toContainText('Hello from openai! You said: Write bold words');
    await expect(reply.locator('strong')).toHaveText('bold');
    const meta = reply.getByTestId('reply-meta');
    await expect(meta).toContainText('gpt-4.1-mini');
    await expect(meta).toContainText('TTFT');
    await expect(meta).toContainText(/\$0\.\d+/);
    await composer.fill('And a second turn');
    await composer.press('Enter');
    await expect(page.getByRole('article', { name: 'Assistant reply' }).nth(1)).toContainText('You said: And a second turn');
    await expect(page.getByRole('article', { name: 'Assistant reply' }).nth(1).getByTestId('reply-meta')).toContainText(/\$0\.\d+/);
    await screenshot(page, '04-playground');
  });

  await test.step('tool calls show as cards', async () => {
    await page.getByText('Tools (JSON)').click();
    await page.locator('.tools-field textarea').fill(JSON.stringify([{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]));
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('[tools] weather in two cities');
    await composer.press('Enter');
    const reply = page.getByRole('article', { name: 'Assistant reply' }).last();
    await expect(reply.locator('.tool-card')).toHaveCount(2);
    await expect(reply.locator('.tool-card').first()).toContainText('get_weather');
    await expect(reply.locator('.tool-card').first()).toContainText('"city": "Lisbon"');
    await screenshot(page, '04b-playground-tool-calls');
    await page.locator('.tools-field textarea').fill('');
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  await test.step('stop a reply while it streams', async () => {
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('[slow] take your time');
    await composer.press('Enter');
    const stop = page.getByRole('button', { name: 'Stop' });
    await expect(stop).toBeVisible();
    await expect(page.getByRole('article', { name: 'Assistant reply' }).last()).toContainText('..');
    await stop.click();
    await expect(page.getByRole('article', { name: 'Assistant reply' }).last()).toContainText('Stopped.');
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  await test.step('watch a streaming request appear live in the inspector', async () => {
    await go(page, 'Inspector');
    const controller = new AbortController();
    const slow = streamThroughGateway(gatewayKey, { model: 'gpt-4.1', messages: [{ role: 'user', content: '[slow] stream for a while' }] }, controller.signal).catch(() => '');
    const liveRow = page.locator('.request-row.status-streaming').first();
    await expect(liveRow).toBeVisible();
    await expect(liveRow).toContainText('gpt-4.1');
    await expect(page.getByTestId('in-flight')).toHaveText('1');
    await screenshot(page, '05-inspector-live');
    controller.abort();
    await slow;
    await expect(page.locator('.request-row.status-cancelled').first()).toBeVisible();
    await expect(page.getByTestId('in-flight')).toHaveText('0');
    // A quick burst: every request shows up without a reload.
    await Promise.all(
      Array.from({ length: 12 }, (_unused, index) => streamThroughGateway(gatewayKey, { model: index % 3 === 0 ? 'claude-sonnet-4-6' : 'gpt-4.1-mini', messages: [{ role: 'user', content: `burst ${index}` }] })),
    );
    await expect(page.locator('.request-row.status-success')).toHaveCount(15);
  });

  await test.step('open a request: overview, request, upstream, response, stream, headers', async () => {
    await page.locator('.request-row.status-success', { hasText: 'claude-sonnet-4-6' }).first().click();
    const detail = page.getByRole('complementary', { name: 'Request detail' });
    await expect(detail).toContainText('anthropic');
    await expect(detail.locator('.timing-bar')).toBeVisible();
    await screenshot(page, '06-inspector-detail-overview');
    await detail.getByRole('tab', { name: 'Upstream' }).click();
    await expect(detail).toContainText('"max_tokens"');
    await screenshot(page, '07-inspector-detail-upstream');
    await detail.getByRole('tab', { name: 'Response' }).click();
    await expect(detail).toContainText('burst');
    await detail.getByRole('tab', { name: /Stream/ }).click();
    await expect(detail.locator('.stream-events')).toContainText('text-delta');
    await screenshot(page, '08-inspector-detail-stream');
    await detail.getByRole('tab', { name: 'Headers' }).click();
    await expect(detail).toContainText('authorization');
    await expect(detail).toContainText('Bearer sy-…');
    expect(await detail.textContent()).not.toContain(gatewayKey);
    await detail.getByRole('tab', { name: 'Request' }).click();
    await expect(detail).toContainText('"messages"');
  });

  await test.step('open a request in the playground', async () => {
    const detail = page.getByRole('complementary', { name: 'Request detail' });
    await detail.getByRole('button', { name: 'Open in playground' }).click();
    await expect(page.getByRole('textbox', { name: 'Message' })).toHaveValue(/burst \d+/);
    await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('claude-sonnet-4-6');
    await page.getByRole('textbox', { name: 'Message' }).fill('');
    await go(page, 'Inspector');
  });

  await test.step('filter by a tag chip and keep keyboard navigation', async () => {
    await page.getByRole('searchbox', { name: 'Filter requests' }).fill('source:playground');
    await expect(page.locator('.request-row.status-success')).toHaveCount(3);
    await page.getByRole('searchbox', { name: 'Filter requests' }).fill('');
    await expect(page.locator('.request-row.status-success')).toHaveCount(15);
    await page.getByRole('grid', { name: 'Requests' }).focus();
    await page.keyboard.press('Home');
    await expect(page.locator('.request-row.selected')).toHaveCount(1);
  });

  await test.step('see the conversation as a transcript', async () => {
    await go(page, 'Conversations');
    const item = page.getByRole('option', { name: /Write \*\*bold\*\* words/ });
    await expect(item).toBeVisible();
    await item.click();
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await expect(transcript).toContainText('And a second turn');
    await expect(transcript).toContainText('You said: And a second turn');
    await expect(transcript.locator('.system-prompt')).toContainText('System prompt');
    await screenshot(page, '09-conversations');
  });

  await test.step('see the charts drawn with the new data', async () => {
    await go(page, 'Analytics');
    await expect(page.getByTestId('card-requests')).toHaveText('17');
    const costChart = page.getByRole('img', { name: 'Cost by model over time' });
    await expect(costChart.locator('canvas')).toHaveCount(1);
    await expect(costChart).not.toHaveAttribute('data-points', '0');
    await expect(page.getByRole('img', { name: 'Requests and errors over time' })).not.toHaveAttribute('data-points', '0');
    await expect(page.locator('table.breakdown')).toContainText('gpt-4.1-mini');
    await screenshot(page, '10-analytics');
    await page.getByRole('tab', { name: 'Tag' }).click();
    await expect(page.locator('table.breakdown')).toContainText('source:playground');
    await page.locator('table.breakdown tr', { hasText: 'source:playground' }).click();
    await expect(page.getByText('Tag', { exact: true }).first()).toBeVisible();
    await expect(page.locator('.request-row.status-success')).toHaveCount(3);
  });

  await test.step('connect your tools with the real URL', async () => {
    await go(page, 'Connect');
    await expect(page.locator('.snippet')).toContainText(`${served.origin}/v1`);
    await page.getByRole('tab', { name: 'curl' }).click();
    await expect(page.locator('.snippet')).toContainText('chat/completions');
    await screenshot(page, '11-connect');
  });

  await test.step('settings: add an alias that the gateway uses at once', async () => {
    await go(page, 'Settings');
    await page.getByRole('button', { name: 'Add alias' }).click();
    await page.getByLabel('Alias name').last().fill('fast');
    await page.getByLabel('Target model').last().fill('openai/gpt-4.1-mini');
    await page.getByRole('button', { name: 'Save aliases' }).click();
    await expect(page.getByLabel('Alias name').last()).toHaveValue('fast');
    const text = await streamThroughGateway(gatewayKey, { model: 'fast', messages: [{ role: 'user', content: 'alias works' }] });
    expect(text).toContain('"model":"gpt-4.1-mini"');
    await screenshot(page, '12-settings');
  });

  await test.step('revoke the gateway key and see it refused', async () => {
    await go(page, 'Providers & keys');
    await page.getByRole('button', { name: 'Revoke CI script' }).click();
    await expect(page.locator('tr[data-key-name="CI script"]')).toContainText('revoked');
    const refused = await fetch(`${served.origin}/v1/models`, { headers: { authorization: `Bearer ${gatewayKey}` } });
    expect(refused.status).toBe(401);
  });

  await test.step('a burst of traffic arrives live without a reload', async () => {
    await go(page, 'Inspector');
    await page.getByRole('button', { name: 'Clear' }).click().catch(() => undefined);
    const key = await page.evaluate(async () => {
      const token = sessionStorage.getItem('switchyard.admin-token') ?? '';
      const response = await fetch('/admin/api/gateway-keys.create', { method: 'POST', headers: { 'x-switchyard-admin-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'burst' }) });
      return ((await response.json()) as { key: string }).key;
    });
    const before = Number(((await page.getByText(/\d+ shown/).textContent()) ?? '0').replace(/\D/g, ''));
    const started = Date.now();
    for (let wave = 0; wave < 8; wave += 1) {
      await Promise.all(Array.from({ length: 25 }, (_unused, index) => streamThroughGateway(key, { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `wave ${wave} request ${index}` }] })));
    }
    await expect(page.locator('.request-row.status-success').first()).toContainText('gpt-4.1-mini');
    await expect(page.getByText(/\d+ shown/)).toHaveText(`${Math.min(5000, before + 200)} shown`);
    expect(Date.now() - started).toBeLessThan(30_000);
    await expect(page.getByTestId('in-flight')).toHaveText('0');
    await screenshot(page, '13-inspector-burst');
  });

  await test.step('dark theme follows the OS', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await go(page, 'Inspector');
    await page.locator('.request-row.status-success').first().click();
    await screenshot(page, '14-inspector-dark');
    await go(page, 'Analytics');
    await expect(page.getByRole('img', { name: 'Cost by model over time' }).locator('canvas')).toHaveCount(1);
    await screenshot(page, '15-analytics-dark');
    await go(page, 'Playground');
    await screenshot(page, '16-playground-dark');
  });

  expect(consoleErrors).toEqual([]);
});

test('a failing provider opens its circuit: the Providers screen shows it, and a reset closes it', async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} at ${message.location().url}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  // One failure opens a circuit, no retries, and a concurrency limit on Anthropic to show.
  const failing = await serveApp({
    config: { circuitBreaker: { failureThreshold: 1, openSeconds: 600 }, retries: { maxRetries: 0 }, providers: { anthropic: { maxConcurrent: 4 } } },
  });
  try {
    const chat = (key: string, model: string, content: string): Promise<Response> =>
      fetch(`${failing.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
      });

    await test.step('calm while every circuit is closed; the concurrency limit in use shows', async () => {
      await page.goto(failing.uiUrl);
      await go(page, 'Providers & keys');
      await expect(page.getByTestId('provider-concurrency-anthropic')).toHaveText('0 / 4');
      await expect(page.getByTestId('provider-concurrency-openai')).toHaveCount(0);
      await expect(page.locator('.circuit-panel')).toHaveCount(0);
    });

    const key = await page.evaluate(async () => {
      const token = sessionStorage.getItem('switchyard.admin-token') ?? '';
      const response = await fetch('/admin/api/gateway-keys.create', { method: 'POST', headers: { 'x-switchyard-admin-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'circuits' }) });
      return ((await response.json()) as { key: string }).key;
    });

    await test.step('a failing upstream opens the circuit, shown live with its model and last error', async () => {
      expect((await chat(key, 'ollama/llama3.2:latest', '[error:500] fail please')).status).toBe(500);
      const panel = page.getByTestId('provider-circuit-ollama');
      await expect(panel).toContainText('Circuit open — retrying at');
      await expect(panel).toContainText('1 failure in a row');
      await expect(panel.getByRole('list', { name: 'Models with an open circuit' })).toContainText('llama3.2:latest');
      await expect(panel.locator('.circuit-error')).not.toBeEmpty();
      // A model-only failure (a 429 rate limit) cuts off that model, not the provider.
      expect((await chat(key, 'claude-sonnet-4-6', '[error:429] rate limited')).status).toBe(429);
      const anthropic = page.getByTestId('provider-circuit-anthropic');
      await expect(anthropic).toContainText('Circuit open for 1 model');
      await expect(anthropic).toContainText('claude-sonnet-4-6');
      // The admin operation lists the same circuits.
      const circuits = await page.evaluate(async () => {
        const token = sessionStorage.getItem('switchyard.admin-token') ?? '';
        const response = await fetch('/admin/api/providers.circuits', { method: 'POST', headers: { 'x-switchyard-admin-token': token } });
        return (await response.json()) as Array<{ provider: string; model: string | null; state: string }>;
      });
      expect(circuits.map((circuit) => `${circuit.provider}/${circuit.model ?? '*'}:${circuit.state}`)).toEqual([
        'anthropic/claude-sonnet-4-6:open',
        'ollama/*:open',
        'ollama/llama3.2:latest:open',
      ]);
      // While open, the gateway answers at once without calling the upstream.
      expect((await chat(key, 'ollama/llama3.2:latest', 'refused while open')).status).toBe(503);
      await screenshot(page, '17-providers-circuit-open');
    });

    await test.step('reset closes it and requests flow again', async () => {
      await page.getByRole('button', { name: 'Reset the Ollama circuit breaker' }).click();
      await expect(page.getByTestId('provider-circuit-ollama')).toHaveCount(0);
      await expect(page.getByTestId('provider-circuit-anthropic')).toBeVisible();
      expect((await chat(key, 'ollama/llama3.2:latest', 'working again')).status).toBe(200);
      await page.getByRole('button', { name: 'Reset the Anthropic circuit breaker' }).click();
      await expect(page.locator('.circuit-panel')).toHaveCount(0);
      await screenshot(page, '18-providers-circuit-reset');
    });
  } finally {
    // Leave the page first: its refreshes would otherwise hit the gateway being closed.
    await page.goto('about:blank').catch(() => undefined);
    await failing.close();
  }
  expect(consoleErrors).toEqual([]);
});
