/**
 * The built CLI (`npm run build`: out/main/cli.js running out/main/cli-main.cjs) as a user
 * starts it, and the first requests it gets: a chat completion sent the moment it says
 * "listening" is answered and logged; then the request checks generated at build time
 * (scripts/precompile-checks.ts) answer bad bodies of every checked route with the same 400
 * as TypeBox compiling them at run time would (test/gateway/precompiled-checks.test.ts), in
 * each route's own error shape, and good ones go through. The bin runs it as CommonJS.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASTIFY_ON_FIRST_USE } from '../../scripts/on-first-use.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'out', 'main', 'cli.js');
const KEY = 'sy-first-requests-key';
const scratch = mkdtempSync(join(tmpdir(), 'switchyard-first-requests-'));
const dataDirectory = join(scratch, 'data');

let upstream: OpenAIFake;
beforeAll(async () => {
  if (!existsSync(cli)) throw new Error('out/main/cli.js is missing: run `npm run build` first');
  upstream = await startOpenAIFake();
});
afterAll(async () => {
  await upstream?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function environment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SWITCHYARD_API_KEY: KEY,
    SWITCHYARD_KEYCHAIN: 'off',
    SWITCHYARD_CODE_CACHE_DIR: join(scratch, 'code-cache'),
    OPENAI_API_KEY: 'sk-first-requests',
    OPENAI_BASE_URL: upstream.url,
    OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
    LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(port: number, path: string, body: unknown): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const CHAT = { model: 'openai/gpt-4.1-mini', messages: [{ role: 'user', content: 'Hello' }] };

/**
 * Starts the built CLI and sends `first` in the same turn of the event loop as the
 * "listening on" line arrives; resolves with the running child, its port and that answer.
 */
async function serveWithFirstRequest(first: (port: number) => Promise<Answer>): Promise<{ child: ChildProcess; port: number; answer: Answer; output: () => string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data-dir', dataDirectory], { cwd: root, env: environment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  const { port, answer } = await new Promise<{ port: number; answer: Promise<Answer> }>((resolve, reject) => {
    let sent = false;
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match && !sent) {
        sent = true;
        resolve({ port: Number(match[1]), answer: first(Number(match[1])) });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
  child.removeAllListeners('exit');
  return { child, port, answer: await answer, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('the built CLI, first requests', () => {
  it('answers a chat completion sent the moment it listens, and logs it', async () => {
    const served = await serveWithFirstRequest((port) => post(port, '/v1/chat/completions', CHAT));
    try {
      expect(served.answer.status, served.output()).toBe(200);
      expect(served.answer.body).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] });
      expect(upstream.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(1);
    } finally {
      await stop(served.child);
    }
    const exported = spawnSync(process.execPath, [cli, 'export', '--format', 'jsonl', '--data-dir', dataDirectory], { cwd: root, encoding: 'utf8', env: environment() });
    expect(exported.status, exported.stderr).toBe(0);
    const records = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([expect.objectContaining({ endpoint: '/v1/chat/completions', status: 'success', httpStatus: 200, requestedModel: 'openai/gpt-4.1-mini' })]);
  });

  it('answers bad bodies of every checked route with a 400 naming the field, in the route’s own error shape; good ones go through', async () => {
    const served = await serveWithFirstRequest((port) => post(port, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 5 }] }));
    try {
      const { port } = served;
      expect(served.answer).toEqual({
        status: 400,
        body: { error: expect.objectContaining({ type: 'invalid_request_error', param: 'messages[0].content', code: 'invalid_type' }) },
      });
      const embeddings = await post(port, '/v1/embeddings', { model: 'openai/text-embedding-3-small', input: ['a', ''] });
      expect(embeddings).toEqual({ status: 400, body: { error: expect.objectContaining({ type: 'invalid_request_error', param: 'input[1]' }) } });
      const responses = await post(port, '/v1/responses', { model: 'openai/gpt-4.1-mini', input: 5 });
      expect(responses.status).toBe(400);
      expect(responses.body.error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
      // Anthropic's shape on /v1/messages.
      const messages = await post(port, '/v1/messages', { model: 'openai/gpt-4.1-mini', max_tokens: 'many', messages: [{ role: 'user', content: 'hi' }] });
      expect(messages.status).toBe(400);
      expect(messages.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
      const countTokens = await post(port, '/v1/messages/count_tokens', { model: 'openai/gpt-4.1-mini' });
      expect(countTokens.status).toBe(400);
      expect(countTokens.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('messages') } });

      expect((await post(port, '/v1/chat/completions', CHAT)).status).toBe(200);
      expect((await post(port, '/v1/messages', { model: 'openai/gpt-4.1-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
      expect((await post(port, '/v1/responses', { model: 'openai/gpt-4.1-mini', input: 'hi' })).status).toBe(200);
    } finally {
      await stop(served.child);
    }
  });

  it('leaves out the packages Fastify requires on first use, and finds them from the bundle when it does', () => {
    const bundle = join(root, 'out', 'main', 'cli-main.cjs');
    const source = readFileSync(bundle, 'latin1');
    const fromBundle = createRequire(bundle);
    for (const name of FASTIFY_ON_FIRST_USE) {
      // One require of the package where Fastify needs it, none of its code.
      expect(source.split(`require(${JSON.stringify(name)})`)).toHaveLength(2);
      expect(fromBundle.resolve(name)).toContain(join('node_modules', name));
    }
    // What they were needed for, done through that require: a logger and inject().
    const pino = fromBundle('pino') as (options: object) => { info: (message: string) => void };
    expect(typeof pino({ enabled: false }).info).toBe('function');
    const inject = fromBundle('light-my-request') as (handler: (request: unknown, response: { end(body: string): void }) => void, options: object) => Promise<{ body: string }>;
    return inject((_request, response) => response.end('ok'), { url: '/' }).then((answer) => expect(answer.body).toBe('ok'));
  });

  it('is run by the bin as CommonJS (out/main/cli.cjs): no ES module loader, and it serves', async () => {
    const bin = join(root, 'bin', 'switchyard.js');
    // The bin's own flags, as its shebang gives them (npm's link executes the file).
    const shebangFlags = readFileSync(bin, 'utf8').split('\n', 1)[0]!.replace(/^#!\/usr\/bin\/env -S node /, '').split(' ');
    const probe = join(scratch, 'module-probe.cjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write('MODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n");
    const version = spawnSync(process.execPath, [...shebangFlags, '-r', probe, bin, 'version'], { cwd: root, encoding: 'utf8', env: environment() });
    expect(version.stdout).toBe('0.1.0\n');
    const modules = JSON.parse(/MODULES (.*)\n/.exec(version.stderr)![1]!) as string[];
    expect(modules).toContain('NativeModule internal/modules/cjs/loader');
    for (const esm of ['resolve', 'module_job', 'translators']) expect(modules).not.toContain(`NativeModule internal/modules/esm/${esm}`);

    const child = spawn(process.execPath, [...shebangFlags, '-r', probe, bin, 'serve', '--port', '0', '--data-dir', join(scratch, 'bin-data')], { cwd: root, env: environment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr!.on('data', (data: Buffer) => (errors += data.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let output = '';
        child.stdout!.on('data', (data: Buffer) => {
          output += data.toString();
          const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
      });
      child.removeAllListeners('exit');
      expect((await post(port, '/v1/chat/completions', CHAT)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    } finally {
      await stop(child);
    }
    // Built-in modules loaded on first use only, which serving HTTP/1.1 to a plain-HTTP upstream does not make:
    // HTTP/2 and HTTPS (scripts/lazy-requires.ts); undici's fetch, web classes and mocks (scripts/lazy-undici-index.ts).
    // node:v8 is loaded, by the loader, to set the run-time V8 flags (src/main/v8-runtime-flags.ts: ~1.5 ms of
    // start-up, the streams it needs being loaded for serving anyway).
    const served = JSON.parse(/MODULES (.*)\n/.exec(errors)![1]!) as string[];
    expect(served).toContain('NativeModule http');
    expect(served).toContain('NativeModule v8');
    for (const unused of ['http2', 'https', 'zlib', 'internal/webstreams/readablestream', 'fs/promises']) expect(served).not.toContain(`NativeModule ${unused}`);
  });

  it('was built with the request checks generated at build time', () => {
    expect(readFileSync(join(root, 'out', 'main', 'cli-main.cjs'), 'latin1')).toMatch(/precompiledChecks = \{\s*"chat": function\s*\(CheckContext, Guard, Hashing, External\)/);
  });
});
