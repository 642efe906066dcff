/**
 * The built CLI (out/main/cli.js: a loader running out/main/cli-main.cjs with a V8 code
 * cache, src/main/code-cache.ts) starts and answers with no cache, a valid one, a corrupt
 * one, one V8 rejects and an unwritable cache folder; the cache is written after the first
 * answer (or, without requests, a while after listening), and a served request is still
 * logged through the worker beside the bundle. Also the cache file format from source.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_HASH_LINE, bundleHash, codeCacheDirectory, codeCacheFile, nodeFlagsKey, readCodeCache, trustedCacheDirectory, writeCodeCache } from '../../src/main/code-cache.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-fake.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'out', 'main', 'cli.js');
const KEY = 'sy-code-cache-test-key';
const UPSTREAM_KEY = 'sk-code-cache-upstream';

function flipByte(buffer: Buffer, index: number): void {
  buffer.writeUInt8(buffer.readUInt8(index) ^ 0xff, index);
}

const scratch = mkdtempSync(join(tmpdir(), 'switchyard-code-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('code cache files (from source)', () => {
  it('reads back what it wrote, and calls a missing, truncated or altered file none or invalid', () => {
    const directory = join(scratch, 'format');
    const file = codeCacheFile(directory, Buffer.from('bundle one'));
    expect(readCodeCache(file)).toBe('none');
    const data = Buffer.from('v8 data '.repeat(100));
    writeCodeCache(file, data);
    expect(readCodeCache(file)).toEqual(data);

    const content = readFileSync(file);
    const altered = Buffer.from(content);
    flipByte(altered, altered.length - 3);
    writeFileSync(file, altered);
    expect(readCodeCache(file)).toBe('invalid');
    writeFileSync(file, content.subarray(0, content.length - 10));
    expect(readCodeCache(file)).toBe('invalid');
    writeFileSync(file, 'not a cache at all');
    expect(readCodeCache(file)).toBe('invalid');
  });

  it('trusts only a folder of this user that nobody else can write: a shared folder or a link is neither read nor written', () => {
    const own = join(scratch, 'trusted-own');
    mkdirSync(own, { mode: 0o700 });
    expect(trustedCacheDirectory(own)).toBe(true);
    expect(trustedCacheDirectory(join(scratch, 'trusted-not-made-yet'))).toBe(true);
    const shared = join(scratch, 'trusted-shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(trustedCacheDirectory(shared)).toBe(false);
    const file = codeCacheFile(shared, Buffer.from('bundle one'));
    expect(() => writeCodeCache(file, Buffer.from('data'))).toThrow(/only it can write/);
    expect(readdirSync(shared)).toEqual([]);
    const link = join(scratch, 'trusted-link');
    symlinkSync(own, link);
    expect(trustedCacheDirectory(link)).toBe(false);
  });

  it('removes a temporary file a start left while writing once it is stale, and leaves a fresh one (another start writing now)', () => {
    const directory = join(scratch, 'temporaries');
    const file = codeCacheFile(directory, Buffer.from('bundle one'));
    writeCodeCache(file, Buffer.from('one'));
    const stale = `${file}.123-aaaaaaaaaaaa.tmp`;
    const fresh = `${file}.456-bbbbbbbbbbbb.tmp`;
    writeFileSync(stale, 'half');
    writeFileSync(fresh, 'half');
    const longAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(stale, longAgo, longAgo);
    writeCodeCache(file, Buffer.from('two'));
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(readCodeCache(file)).toEqual(Buffer.from('two'));
  });

  it('names the file by bundle content, Node version and architecture, and keeps the three most recently written other bundles’ caches when writing', () => {
    const directory = join(scratch, 'names');
    const first = codeCacheFile(directory, Buffer.from('bundle one'));
    const second = codeCacheFile(directory, Buffer.from('bundle two'));
    expect(first).not.toBe(second);
    expect(first).toContain(process.version);
    expect(first).toContain(process.arch);
    writeCodeCache(first, Buffer.from('one'));
    writeFileSync(join(directory, 'unrelated.txt'), 'kept');
    writeCodeCache(second, Buffer.from('two'));
    // Two installs sharing the folder: each keeps its cache, neither deletes the other's.
    expect(readdirSync(directory).sort()).toEqual([first, second].map((file) => file.slice(directory.length + 1)).concat('unrelated.txt').sort());
    expect(readCodeCache(first)).toEqual(Buffer.from('one'));
    // Older bundles, oldest first; a fifth bundle's write leaves the three newest others.
    const names = (files: string[]) => files.map((file) => file.slice(directory.length + 1));
    const third = codeCacheFile(directory, Buffer.from('bundle three'));
    const fourth = codeCacheFile(directory, Buffer.from('bundle four'));
    writeCodeCache(third, Buffer.from('three'));
    writeCodeCache(fourth, Buffer.from('four'));
    [first, second, third, fourth].forEach((file, index) => utimesSync(file, new Date(Date.UTC(2026, 0, 1 + index)), new Date(Date.UTC(2026, 0, 1 + index))));
    const fifth = codeCacheFile(directory, Buffer.from('bundle five'));
    writeCodeCache(fifth, Buffer.from('five'));
    expect(readdirSync(directory).sort()).toEqual(names([second, third, fourth, fifth]).concat('unrelated.txt').sort());
  });

  it('keeps a cache per set of node flags (V8 rejects a cache made under other flags), removed with its bundle', () => {
    const directory = join(scratch, 'flags');
    expect(nodeFlagsKey([], '')).toBe('');
    expect(nodeFlagsKey(['--max-semi-space-size=4'], '')).toMatch(/^-f[0-9a-f]{8}$/);
    expect(nodeFlagsKey(['--max-semi-space-size=4'], '')).not.toBe(nodeFlagsKey(['--max-semi-space-size=8'], ''));
    expect(nodeFlagsKey([], '--max-semi-space-size=4')).not.toBe('');
    const plain = codeCacheFile(directory, Buffer.from('bundle one'), '', nodeFlagsKey([], ''));
    const flagged = codeCacheFile(directory, Buffer.from('bundle one'), '', nodeFlagsKey(['--max-semi-space-size=4'], ''));
    expect(flagged).not.toBe(plain);
    expect(plain).toMatch(new RegExp(`-${process.arch}\\.v8cache$`));
    writeCodeCache(plain, Buffer.from('plain'));
    writeCodeCache(flagged, Buffer.from('flagged'));
    // The same bundle under two sets of flags: both kept, each readable.
    expect(readdirSync(directory).sort()).toEqual([plain, flagged].map((file) => file.slice(directory.length + 1)).sort());
    expect(readCodeCache(plain)).toEqual(Buffer.from('plain'));
    expect(readCodeCache(flagged)).toEqual(Buffer.from('flagged'));
    // Other bundles come: bundle one counts once, and once it is not among the three most
    // recently written others, both its files go together.
    const longAgo = new Date(Date.UTC(2025, 0, 1));
    utimesSync(plain, longAgo, longAgo);
    utimesSync(flagged, longAgo, longAgo);
    const later = ['two', 'three', 'four'].map((name) => codeCacheFile(directory, Buffer.from(`bundle ${name}`), '', nodeFlagsKey([], '')));
    for (const file of later) writeCodeCache(file, Buffer.from('later'));
    expect(existsSync(plain) && existsSync(flagged)).toBe(true);
    const next = codeCacheFile(directory, Buffer.from('bundle five'), '', nodeFlagsKey([], ''));
    writeCodeCache(next, Buffer.from('next'));
    expect(readdirSync(directory).sort()).toEqual([...later, next].map((file) => file.slice(directory.length + 1)).sort());
  });

  it('keys a bundle by the hash on its last line when the build wrote one, else by its content, and by its size and mtime', () => {
    const body = 'module.exports = 1;\n';
    const hash = createHash('sha1').update(body).digest('hex');
    expect(bundleHash(Buffer.from(`${body}${BUNDLE_HASH_LINE}${hash}\n`))).toBe(hash);
    expect(bundleHash(Buffer.from(body))).toBe(hash);
    expect(bundleHash(Buffer.from(body), '20 1000')).not.toBe(bundleHash(Buffer.from(body), '20 2000'));
    expect(bundleHash(Buffer.from('module.exports = 2;\n'))).not.toBe(hash);
  });

  it('takes its folder from SWITCHYARD_CODE_CACHE_DIR, XDG_CACHE_HOME or the home folder, and can be turned off', () => {
    expect(codeCacheDirectory({ SWITCHYARD_CODE_CACHE_DIR: '/x/cache' })).toBe('/x/cache');
    expect(codeCacheDirectory({ SWITCHYARD_CODE_CACHE_DIR: 'off' })).toBeNull();
    expect(codeCacheDirectory({ XDG_CACHE_HOME: '/x/xdg' })).toBe(join('/x/xdg', 'switchyard'));
    expect(codeCacheDirectory({})).toMatch(/\.cache[\\/]switchyard$/);
  });
});

interface Served {
  child: ChildProcess;
  port: number;
  dataDirectory: string;
  output: () => string;
}

async function serve(cacheDirectory: string, upstream: string, nodeFlags: string[] = []): Promise<Served> {
  const dataDirectory = mkdtempSync(join(scratch, 'data-'));
  const child = spawn(process.execPath, [...nodeFlags, cli, 'serve', '--port', '0', '--data-dir', dataDirectory], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SWITCHYARD_API_KEY: KEY,
      SWITCHYARD_CODE_CACHE_DIR: cacheDirectory,
      SWITCHYARD_CODE_CACHE_DEBUG: '1',
      SWITCHYARD_KEYCHAIN_SERVICE: `switchyard-code-cache-test-${process.pid}`,
      OPENAI_API_KEY: UPSTREAM_KEY,
      OPENAI_BASE_URL: upstream,
      OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1',
      LMSTUDIO_BASE_URL: 'http://127.0.0.1:9/v1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not listen:\n${output}`)), 20_000);
    const check = (): void => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return { child, port, dataDirectory, output: () => output };
}

async function stop(served: Served): Promise<void> {
  if (served.child.exitCode !== null) return;
  const exited = new Promise((resolve) => served.child.once('exit', resolve));
  served.child.kill('SIGTERM');
  await exited;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function models(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
  await response.arrayBuffer();
  return response.status;
}

function cacheFiles(directory: string): string[] {
  return existsSync(directory) ? readdirSync(directory).filter((name) => name.endsWith('.v8cache')) : [];
}

describe('the built CLI with its code cache', () => {
  let upstream: OpenAIFake;
  beforeAll(async () => {
    if (!existsSync(join(root, 'out', 'main', 'cli-main.cjs'))) {
      const build = spawnSync(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      if (build.status !== 0) throw new Error('electron-vite build failed');
    }
    upstream = await startOpenAIFake({ flavor: 'openai', apiKey: UPSTREAM_KEY });
  }, 120_000);
  afterAll(async () => upstream?.close());

  it('keeps one cache per set of node flags: starts with and without flags each find theirs', async () => {
    const cacheDirectory = join(scratch, 'cache-flags');
    const flags = ['--max-semi-space-size=4'];
    for (const [nodeFlags, expected] of [
      [[], 'code cache none'],
      [flags, 'code cache none'],
      [[], 'code cache accepted'],
      [flags, 'code cache accepted'],
    ] as const) {
      const served = await serve(cacheDirectory, upstream.url, [...nodeFlags]);
      try {
        expect(served.output()).toContain(expected);
        expect(await models(served.port)).toBe(200);
        if (expected === 'code cache none') await waitFor(() => served.output().includes('code cache written'), 'the code cache to be written');
      } finally {
        await stop(served);
      }
      if (expected === 'code cache accepted') expect(served.output()).not.toContain('code cache written');
    }
    expect(cacheFiles(cacheDirectory)).toHaveLength(2);
  });

  it('starts without a cache and writes one, then starts from it; a corrupt or rejected cache is replaced', async () => {
    const cacheDirectory = join(scratch, 'cache');

    const first = await serve(cacheDirectory, upstream.url);
    try {
      expect(first.output()).toContain('code cache none');
      expect(await models(first.port)).toBe(200);
      await waitFor(() => first.output().includes('code cache written'), 'the code cache to be written');
    } finally {
      await stop(first);
    }
    const [file] = cacheFiles(cacheDirectory);
    expect(file).toMatch(new RegExp(`^cli-[0-9a-f]{20}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8cache$`));
    const path = join(cacheDirectory, file!);
    const valid = readFileSync(path);

    const second = await serve(cacheDirectory, upstream.url);
    try {
      expect(second.output()).toContain('code cache accepted');
      expect(await models(second.port)).toBe(200);
      // A chat completion through the cached code, logged by the writer thread started from beside the bundle.
      const response = await fetch(`http://127.0.0.1:${second.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello from a cached start' }] }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { choices: unknown[] }).choices).toHaveLength(1);
    } finally {
      await stop(second);
    }
    expect(second.output()).not.toContain('code cache written');
    const exported = spawnSync(process.execPath, [cli, 'export', '--format', 'jsonl', '--data-dir', second.dataDirectory], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHYARD_CODE_CACHE_DIR: cacheDirectory } });
    expect(exported.status).toBe(0);
    const records = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { endpoint: string; status: string; requestedModel: string });
    expect(records).toEqual([expect.objectContaining({ endpoint: '/v1/chat/completions', status: 'success', requestedModel: 'gpt-4.1-mini' })]);

    // One byte of the V8 data changed: our checksum catches it before V8 reads it.
    const corrupt = Buffer.from(valid);
    flipByte(corrupt, corrupt.length - 100);
    writeFileSync(path, corrupt);
    const third = await serve(cacheDirectory, upstream.url);
    try {
      expect(third.output()).toContain('code cache invalid');
      expect(await models(third.port)).toBe(200);
      await waitFor(() => third.output().includes('code cache written'), 'the corrupt cache to be replaced');
    } finally {
      await stop(third);
    }
    expect(readCodeCache(path)).not.toBe('invalid');

    // A well-formed file whose data V8 refuses (not a code cache of this script).
    const garbage = Buffer.from('not V8 code cache data '.repeat(50));
    writeFileSync(path, Buffer.concat([Buffer.from('switchyard-v8-code-cache 1\n'), createHash('sha1').update(garbage).digest(), garbage]));
    const fourth = await serve(cacheDirectory, upstream.url);
    try {
      expect(fourth.output()).toContain('code cache rejected');
      expect(await models(fourth.port)).toBe(200);
      await waitFor(() => fourth.output().includes('code cache written'), 'the rejected cache to be replaced');
    } finally {
      await stop(fourth);
    }
    const fifth = await serve(cacheDirectory, upstream.url);
    try {
      expect(fifth.output()).toContain('code cache accepted');
      expect(await models(fifth.port)).toBe(200);
    } finally {
      await stop(fifth);
    }
  }, 120_000);

  it('starts and answers when the cache folder cannot be created', async () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, 'a file where the cache folder would be');
    const served = await serve(join(blocker, 'switchyard'), upstream.url);
    try {
      expect(served.output()).toContain('code cache none');
      expect(await models(served.port)).toBe(200);
      // The write is tried once the gateway listens and fails quietly; the gateway goes on answering.
      await waitFor(() => served.output().includes('code cache not written'), 'the failed write');
      expect(await models(served.port)).toBe(200);
    } finally {
      await stop(served);
    }
    expect(served.child.exitCode).toBe(0);
  }, 60_000);

  it('writes the cache a while after listening when no request comes', async () => {
    const cacheDirectory = join(scratch, 'idle-cache');
    const served = await serve(cacheDirectory, upstream.url);
    try {
      await waitFor(() => served.output().includes('code cache written (before any request)'), 'the code cache to be written without a request');
    } finally {
      await stop(served);
    }
    expect(cacheFiles(cacheDirectory)).toHaveLength(1);
    // That cache lacks the code of a request: the next start uses it, and once it has answered
    // writes a whole one, which the start after that uses without writing again.
    const next = await serve(cacheDirectory, upstream.url);
    try {
      expect(next.output()).toContain('code cache accepted');
      expect(await models(next.port)).toBe(200);
      await waitFor(() => /code cache written\n/.test(next.output()), 'the whole cache to replace the idle one');
    } finally {
      await stop(next);
    }
    const last = await serve(cacheDirectory, upstream.url);
    try {
      expect(last.output()).toContain('code cache accepted');
      expect(await models(last.port)).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await stop(last);
    }
    expect(last.output()).not.toContain('code cache written');
    expect(cacheFiles(cacheDirectory)).toHaveLength(1);
  }, 60_000);

  it('runs with the cache turned off', async () => {
    const served = await serve('off', upstream.url);
    try {
      expect(served.output()).toContain('code cache off');
      expect(await models(served.port)).toBe(200);
    } finally {
      await stop(served);
    }
  }, 60_000);
});
