/**
 * `switchyard keys …` and `switchyard gateway-keys …`: in-process for speed (real keychain
 * when one runs, else the stand-in), plus a few runs of the real CLI as a child process
 * (stdin piped, exit codes, the dispatch in cli.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExpiry, parseFlags, runGatewayKeys, runKeys, type CommandIO } from '../../src/main/cli-key-commands.js';
import { KeychainProviderKeyManager, UnavailableProviderKeyStore, openProviderKeyStore, type ProviderKeyStore } from '../../src/main/secrets/keychain.js';
import { openDatabase } from '../../src/main/storage/database.js';
import { SqliteGatewayKeyManager } from '../../src/main/storage/gateway-keys.js';
import { startKeyCheckingUpstream, type KeyCheckingUpstream } from '../security/key-checking-upstream.js';
import { keychainUnderTest, type KeychainUnderTest } from './keychain-under-test.js';

const root = join(import.meta.dirname, '..', '..');

function collector(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  }) as Writable & { text: () => string };
  stream.text = () => text;
  return stream;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let keychain: KeychainUnderTest;
let openai: KeyCheckingUpstream;
let xai: KeyCheckingUpstream;
let closedPort: string;
const GOOD_OPENAI = 'sk-cli-test-good-key-000000000001';
const GOOD_XAI = 'xai-cli-test-good-key-00000000002';

function environment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    OPENAI_BASE_URL: `${openai.origin}/v1`,
    XAI_BASE_URL: `${xai.origin}/v1`,
    OLLAMA_BASE_URL: `${closedPort}/v1`,
    LMSTUDIO_BASE_URL: `${closedPort}/v1`,
    ...extra,
  };
}

async function openStore(): Promise<ProviderKeyStore> {
  return keychain.real
    ? openProviderKeyStore({ service: keychain.service, refreshIntervalMs: 0 })
    : KeychainProviderKeyManager.open(keychain.keytar, { service: keychain.service, refreshIntervalMs: 0 });
}

async function run(
  command: typeof runKeys,
  argv: string[],
  options: { stdin?: string | PassThrough; tty?: boolean; env?: NodeJS.ProcessEnv; store?: () => Promise<ProviderKeyStore>; now?: () => number } = {},
): Promise<Run> {
  const stdout = collector();
  const stderr = collector();
  const stdin = (typeof options.stdin === 'string' || options.stdin === undefined ? Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) : options.stdin) as CommandIO['stdin'];
  if (options.tty) stdin.isTTY = true;
  const io: CommandIO = { stdin, stdout, stderr, environment: options.env ?? environment(), openKeyStore: options.store ?? openStore, ...(options.now ? { now: options.now } : {}) };
  const code = await command(argv, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

beforeAll(async () => {
  keychain = await keychainUnderTest();
  openai = await startKeyCheckingUpstream({ accepted: [GOOD_OPENAI] });
  xai = await startKeyCheckingUpstream({ accepted: [GOOD_XAI], badKeyStyle: 'xai' });
  // A port that refuses connections: a server started and closed at once.
  const probe = await startKeyCheckingUpstream();
  closedPort = probe.origin;
  await probe.close();
});

afterAll(async () => {
  await keychain.cleanup();
  await openai.close();
  await xai.close();
});

describe('switchyard keys', () => {
  it('set: reads the key from piped stdin, stores it, shows it masked', async () => {
    const result = await run(runKeys, ['set', 'openai'], { stdin: `${GOOD_OPENAI}\n` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/stored the OpenAI key \(sk-…0001\) in the OS keychain/);
    expect(result.stdout).toMatch(/no running gateway to tell/); // none reads this test's keychain service
    expect(result.stdout + result.stderr).not.toContain(GOOD_OPENAI);
    expect(await keychain.keytar.getPassword(keychain.service, 'openai')).toBe(GOOD_OPENAI);
  });

  it('set: never takes the key from the command line, and never repeats it', async () => {
    const pasted = 'sk-pasted-on-the-command-line-123456';
    for (const argv of [['set', 'openai', pasted], ['set', 'openai', '--', pasted], ['set', `--key=${pasted}`, 'openai'], ['set', '--key', pasted, 'openai']]) {
      const result = await run(runKeys, argv, { stdin: 'sk-should-not-be-read' });
      expect(result.code).toBe(2);
      expect(result.stdout + result.stderr).not.toContain(pasted);
      expect(result.stdout + result.stderr).not.toContain('pasted-on-the');
    }
    const positional = await run(runKeys, ['set', 'openai', pasted]);
    expect(positional.stderr).toMatch(/never from the command line/);
    expect(await keychain.keytar.getPassword(keychain.service, 'openai')).not.toBe(pasted);
  });

  it('set: refuses an empty or broken key, and an unknown provider', async () => {
    const empty = await run(runKeys, ['set', 'openai'], { stdin: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/empty.*printf %s "\$KEY" \| switchyard keys set openai/s);
    const spaced = await run(runKeys, ['set', 'openai'], { stdin: 'sk-two words' });
    expect(spaced.code).toBe(1);
    expect(spaced.stderr).toMatch(/no spaces/);
    const unknown = await run(runKeys, ['set', 'nosuch'], { stdin: 'sk-x' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown provider "nosuch"; known: openai, .*--config/);
  });

  it('set: a hidden prompt on a terminal (raw mode, no echo, backspace, paste)', async () => {
    const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
    const modes: boolean[] = [];
    stdin.setRawMode = (mode: boolean) => void modes.push(mode);
    const running = run(runKeys, ['set', 'xai'], { stdin, tty: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    stdin.write('xai-typo');
    stdin.write('\u007f\u007f\u007f\u007f');
    stdin.write(`\u001b[200~${GOOD_XAI.slice(4)}\u001b[201~`); // a bracketed paste
    stdin.write('\r');
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(modes).toEqual([true, false]);
    expect(result.stderr).toContain('API key for xAI (input hidden): ');
    expect(result.stderr + result.stdout).not.toContain(GOOD_XAI);
    expect(await keychain.keytar.getPassword(keychain.service, 'xai')).toBe(GOOD_XAI);
  });

  it('set: Ctrl-C at the prompt stores nothing', async () => {
    const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
    stdin.setRawMode = () => {};
    const running = run(runKeys, ['set', 'gemini'], { stdin, tty: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    stdin.write('AIza-partial\u0003');
    const result = await running;
    expect(result.code).toBe(130);
    expect(await keychain.keytar.getPassword(keychain.service, 'gemini')).toBeNull();
  });

  it('list: every provider, where its key comes from, masked', async () => {
    const env = environment({ ANTHROPIC_API_KEY: 'sk-ant-from-environment-9999' });
    const result = await run(runKeys, ['list'], { env });
    expect(result.code).toBe(0);
    const line = (provider: string) => result.stdout.split('\n').find((row) => row.startsWith(`${provider} `)) ?? '';
    expect(line('openai')).toMatch(/^openai\s+keychain\s+sk-…0001/);
    expect(line('xai')).toMatch(/^xai\s+keychain\s+xai-…0002/);
    expect(line('anthropic')).toMatch(/^anthropic\s+environment\s+sk-…9999\s+from ANTHROPIC_API_KEY/);
    expect(line('gemini')).toMatch(/^gemini\s+missing\s+-\s+switchyard keys set gemini or GEMINI_API_KEY/);
    expect(line('ollama')).toMatch(/^ollama\s+not needed/);
    expect(result.stdout).not.toContain(GOOD_OPENAI);
    expect(result.stdout).not.toContain('from-environment');
    const json = JSON.parse((await run(runKeys, ['list', '--json'], { env })).stdout);
    expect(json.keychain).toEqual({ available: true, reason: null });
    expect(json.providers.find((entry: { provider: string }) => entry.provider === 'openai')).toMatchObject({ source: 'keychain', maskedKey: 'sk-…0001' });
  });

  it('test: ok, exit 0', async () => {
    const result = await run(runKeys, ['test', 'openai']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok: OpenAI accepted the key from the keychain \(sk-…0001\): 2 models listed in \d+ ms/);
    expect(openai.received.at(-1)).toMatchObject({ path: '/v1/models', key: GOOD_OPENAI });
  });

  it('test: invalid key (401), exit 1, the echoed key masked', async () => {
    const bad = 'sk-cli-test-bad-key-echoed-back-7777';
    const result = await run(runKeys, ['test', 'openai'], { store: async () => new UnavailableProviderKeyStore('no OS keychain (test): using environment keys only'), env: environment({ OPENAI_API_KEY: bad }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^invalid key: OpenAI refused the key from OPENAI_API_KEY \(sk-…7777\) \(HTTP 401: OpenAI: Incorrect API key provided: sk-…7777/);
    expect(result.stdout + result.stderr).not.toContain(bad);
    expect(result.stderr).toContain('no OS keychain (test): using environment keys only');
  });

  it("test: xAI's 400 for a bad key is an invalid key too", async () => {
    const bad = 'xai-cli-test-bad-key-echoed-back-8888';
    const result = await run(runKeys, ['test', 'xai'], { store: async () => new UnavailableProviderKeyStore('no OS keychain (test)'), env: environment({ XAI_API_KEY: bad }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^invalid key: xAI refused .*HTTP 400/);
    expect(result.stdout).not.toContain(bad);
    const good = await run(runKeys, ['test', 'xai']);
    expect(good.code).toBe(0);
  });

  it('test: unreachable, exit 2', async () => {
    const result = await run(runKeys, ['test', 'ollama', '--timeout', '3']);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^unreachable: Ollama at http:\/\/127\.0\.0\.1:\d+\/v1 did not answer usefully: .*unreachable.*ECONNREFUSED/);
  });

  it('test: a missing key, exit 1', async () => {
    const result = await run(runKeys, ['test', 'gemini']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^invalid key: no Google Gemini key is set; store one with `switchyard keys set gemini` or set GEMINI_API_KEY/);
  });

  it('test: providers and base URLs from --config, as the gateway reads them', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'switchyard-cli-config-'));
    const file = join(directory, 'switchyard.json');
    writeFileSync(file, JSON.stringify({ providers: { acme: { baseUrl: `${openai.origin}/v1`, apiKeyEnv: 'ACME_API_KEY' } } }));
    const result = await run(runKeys, ['test', 'acme', '--config', file], { env: environment({ ACME_API_KEY: GOOD_OPENAI }), store: async () => new UnavailableProviderKeyStore('none') });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok: acme accepted the key from ACME_API_KEY/);
    const missingConfig = await run(runKeys, ['test', 'acme']);
    expect(missingConfig.code).toBe(2);
    expect(missingConfig.stderr).toMatch(/unknown provider "acme".*--config/);
  });

  it('delete: removes the key; the environment key then applies', async () => {
    const result = await run(runKeys, ['delete', 'xai'], { env: environment({ XAI_API_KEY: 'xai-env' }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/deleted the xAI key from the OS keychain/);
    expect(result.stderr).toMatch(/XAI_API_KEY is still set and is used instead/);
    expect(await keychain.keytar.getPassword(keychain.service, 'xai')).toBeNull();
    const again = await run(runKeys, ['delete', 'xai']);
    expect(again.stdout).toMatch(/no xAI key in the OS keychain; nothing to delete/);
  });

  it('without a keychain: set and delete refuse with the reason, list shows the environment', async () => {
    const store = async () => new UnavailableProviderKeyStore('no OS keychain (Secret Service) found: using environment keys only');
    const set = await run(runKeys, ['set', 'openai'], { stdin: 'sk-x', store });
    expect(set.code).toBe(1);
    expect(set.stderr).toMatch(/cannot store the key: no OS keychain \(Secret Service\) found: using environment keys only\. Set OPENAI_API_KEY instead/);
    const list = await run(runKeys, ['list'], { store, env: environment({ OPENAI_API_KEY: 'sk-env-only-1234' }) });
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(/no OS keychain \(Secret Service\) found/);
    expect(list.stdout).toMatch(/openai\s+environment\s+sk-…1234/);
    const remove = await run(runKeys, ['delete', 'openai'], { store });
    expect(remove.code).toBe(1);
  });

  it('help and usage errors', async () => {
    expect((await run(runKeys, ['help'])).stdout).toContain('never from the command line');
    expect((await run(runKeys, ['frobnicate'])).code).toBe(2);
    expect((await run(runKeys, ['test'])).code).toBe(2);
    expect((await run(runKeys, ['list', '--bogus=sk-secret-value-1234567890'])).stderr).not.toContain('sk-secret');
  });
});

describe('switchyard gateway-keys', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-gateway-keys-'));

  it('create prints the key once (stdout) with a note it will not be shown again', async () => {
    const result = await run(runGatewayKeys, ['create', '--name', 'cursor', '--tag', 'tool:cursor', '--tag', 'team:web', '--model', 'gpt-4o-mini,gpt-4.1', '--expires', '30d', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    const key = result.stdout.trim();
    expect(key).toMatch(/^sy-[A-Za-z0-9_-]{43}$/);
    expect(result.stderr).toMatch(/created gateway key "cursor" \(id [0-9a-f-]{36}, prefix sy-.{6}\)/);
    expect(result.stderr).toMatch(/tags: tool:cursor, team:web; models: gpt-4o-mini, gpt-4\.1; expires: \d{4}-/);
    expect(result.stderr).toMatch(/you will not see it again/);
    // The key works: a manager on the same data folder verifies it with its defaults.
    const database = openDatabase(dataDir);
    const keys = new SqliteGatewayKeyManager(database, { refreshIntervalMs: 0, flushIntervalMs: 0 });
    expect(keys.verify(key)).toMatchObject({ name: 'cursor', tags: [{ key: 'tool', value: 'cursor' }, { key: 'team', value: 'web' }], allowedModels: ['gpt-4o-mini', 'gpt-4.1'] });
    keys.close();
    database.close();
    // And it is never shown again.
    const list = await run(runGatewayKeys, ['list', '--data-dir', dataDir]);
    expect(list.stdout).not.toContain(key);
    expect(list.stdout).toContain(key.slice(0, 9));
    expect(list.stdout).toMatch(/ID\s+PREFIX\s+NAME\s+TAGS\s+MODELS\s+CREATED\s+LAST USED\s+EXPIRES\s+STATUS/);
    // Last used: the verify above, written when that manager closed.
    expect(list.stdout).toMatch(/cursor\s+tool:cursor, team:web\s+gpt-4o-mini,gpt-4\.1\s+(\d{4}-\d\d-\d\d \d\d:\d\d\s+){3}active/);
  });

  it('revoke by prefix or by the start of the id; list shows it revoked', async () => {
    const created = await run(runGatewayKeys, ['create', '--name', 'aider', '--data-dir', dataDir]);
    const key = created.stdout.trim();
    const records = JSON.parse((await run(runGatewayKeys, ['list', '--json', '--data-dir', dataDir])).stdout) as Array<{ id: string; name: string; prefix: string; status: string }>;
    const aider = records.find((record) => record.name === 'aider')!;
    expect(JSON.stringify(records)).not.toContain(key);
    const revoked = await run(runGatewayKeys, ['revoke', `${aider.prefix}…`, '--data-dir', dataDir]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/revoked "aider" \(sy-.{6}…\); a running gateway refuses it from its next request/);
    const again = await run(runGatewayKeys, ['revoke', aider.id.slice(0, 8), '--data-dir', dataDir]);
    expect(again.stdout).toMatch(/already revoked/);
    const after = JSON.parse((await run(runGatewayKeys, ['list', '--json', '--data-dir', dataDir])).stdout) as Array<{ name: string; status: string }>;
    expect(after.find((record) => record.name === 'aider')!.status).toBe('revoked');
    expect((await run(runGatewayKeys, ['revoke', 'nope-nope', '--data-dir', dataDir])).code).toBe(1);
  });

  it('refuses what it cannot do', async () => {
    expect((await run(runGatewayKeys, ['create', '--data-dir', dataDir])).stderr).toMatch(/needs --name/);
    expect((await run(runGatewayKeys, ['create', '--name', 'x', '--expires', 'yesterday', '--data-dir', dataDir])).code).toBe(2);
    expect((await run(runGatewayKeys, ['create', '--name', 'x', '--expires', '2001-01-01', '--data-dir', dataDir])).stderr).toMatch(/in the future/);
    expect((await run(runGatewayKeys, ['create', '--name', 'x', '--tag', ':v', '--data-dir', dataDir])).code).toBe(2);
    expect((await run(runGatewayKeys, ['create', '--name', 'x', '--tag', 'a,b:c', '--data-dir', dataDir])).code).toBe(1);
    const empty = mkdtempSync(join(tmpdir(), 'switchyard-cli-empty-'));
    expect((await run(runGatewayKeys, ['list', '--data-dir', empty])).stdout).toMatch(/no gateway keys/);
    expect((await run(runGatewayKeys, ['revoke', 'abcd', '--data-dir', empty])).code).toBe(1);
  });

  it('parses expiry spans, dates and date-times', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseExpiry('30d', now)).toBe(now + 30 * 86_400_000);
    expect(parseExpiry('12h', now)).toBe(now + 12 * 3_600_000);
    expect(parseExpiry('2w', now)).toBe(now + 14 * 86_400_000);
    expect(parseExpiry('2026-12-31T00:00:00Z', now)).toBe(Date.UTC(2026, 11, 31));
    expect(() => parseExpiry('0d', now)).toThrow(/future/);
    expect(() => parseFlags(['--x'], {})).toThrow(/unknown option --x/);
  });
});

describe('the real CLI, as a child process', () => {
  function cli(args: string[], env: NodeJS.ProcessEnv, stdin: string | null): Promise<Run> {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'main', 'cli.ts'), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
    if (stdin !== null) child.stdin!.end(stdin);
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  }

  // Four real CLI processes under tsx (each compiles the CLI's sources): on a busy machine that alone can pass the 20 s default.
  it('keys set from a pipe, a refused argv key, gateway-keys create and list', async () => {
    const service = `${keychain.service}-child`;
    const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-child-'));
    const env = { SWITCHYARD_KEYCHAIN_SERVICE: service, ...environment() };
    const [set, refused, created] = await Promise.all([
      cli(['keys', 'set', 'openai'], env, 'sk-child-process-key-424242\n'),
      cli(['keys', 'set', 'openai', 'sk-child-argv-key-31337'], env, null),
      cli(['gateway-keys', 'create', '--name', 'child', '--data-dir', dataDir], env, null),
    ]);
    if (keychain.real) {
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('stored the OpenAI key (sk-…4242)');
      expect(await keychain.keytar.getPassword(service, 'openai')).toBe('sk-child-process-key-424242');
      await keychain.keytar.deletePassword(service, 'openai');
    } else {
      expect(set.code).toBe(1);
      expect(set.stderr).toMatch(/cannot store the key: no OS keychain/);
    }
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/never from the command line/);
    expect(refused.stdout + refused.stderr).not.toContain('31337');
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sy-/);
    const list = await cli(['gateway-keys', 'list', '--data-dir', dataDir], env, null);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('child');
    expect(list.stdout).not.toContain(key);
  }, 60_000);
});
