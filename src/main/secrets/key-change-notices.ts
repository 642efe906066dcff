/**
 * How `switchyard keys set|delete` tells running gateways that a provider key changed, so
 * the very next request uses it (the keychain cannot be watched cheaply: a read is a
 * D-Bus / Keychain round trip, far too slow per request, and polling leaves a window).
 *
 * Each gateway process (the desktop app or `switchyard serve`) whose provider keys come
 * from the OS keychain listens on a local socket (a Unix domain socket; a named pipe on
 * Windows) and announces it with a small file, both in a per-user runtime folder:
 *
 *   $SWITCHYARD_RUNTIME_DIR, else $XDG_RUNTIME_DIR/switchyard, else <tmp>/switchyard-<uid>
 *   (Windows: %TEMP%\switchyard, which is per user)
 *
 *   <pid>-<random>.json   {"pid", "service", "socket", "startedAt"}   mode 0600
 *   <pid>-<random>.sock   the socket                                   mode 0600
 *
 * (The random part keeps two listeners of one process apart: tests, or worker threads.)
 *
 * The folder is made with mode 0700 and used only when it is a real folder owned by this
 * user and closed to others (a shared /tmp must not let another user plant files). It is
 * keyed by user, not by data folder, because the keychain is per user: a gateway started
 * with any `--data-dir` uses the same keychain entries. Entries name their keychain service
 * (SWITCHYARD_KEYCHAIN_SERVICE), so only gateways reading that service are told.
 *
 * The notice is one JSON line, `{"notice":"provider-keys-changed","service":"switchyard"}`;
 * the gateway reads the keychain again and only then answers `{"ok":true}`, so when the
 * CLI returns, the change is in effect. The notice carries no key and can only trigger a
 * re-read; the folder's permissions keep other users out all the same. A gateway that
 * was killed leaves its files behind; the CLI removes those whose process is gone. Without
 * a running gateway there is nothing to tell. The keychain's slow timer stays as the
 * fallback for programs other than the CLI that edit the keychain.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROVIDER_KEYS_CHANGED = 'provider-keys-changed';
/** A notice line longer than this is refused (a notice is a few dozen bytes). */
const MAXIMUM_NOTICE_BYTES = 1024;
const DEFAULT_NOTICE_TIMEOUT_MS = 5_000;
/** Unix socket paths are limited to about 104–108 bytes. */
const MAXIMUM_SOCKET_PATH = 100;
const ENTRY_NAME = /^(\d+)-[0-9a-f]{8}\.json$/;

export interface RunningGatewayEntry {
  pid: number;
  /** The keychain service the gateway reads provider keys from. */
  service: string;
  /** Where it listens for notices: a socket path, or a named pipe on Windows. */
  socket: string;
  startedAt: number;
}

/** The per-user folder for the entries and sockets (see the header). */
export function noticeDirectory(environment: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (environment.SWITCHYARD_RUNTIME_DIR) return environment.SWITCHYARD_RUNTIME_DIR;
  if (platform === 'win32') return join(tmpdir(), 'switchyard');
  if (environment.XDG_RUNTIME_DIR) return join(environment.XDG_RUNTIME_DIR, 'switchyard');
  return join(tmpdir(), `switchyard-${process.getuid?.() ?? 'user'}`);
}

/** Throws unless `directory` is a real folder owned by this user that others cannot open. */
function checkPrivate(directory: string, platform: NodeJS.Platform): void {
  const stat = lstatSync(directory);
  if (stat.isSymbolicLink() || !stat.isDirectory()) throw new Error(`${directory} is not a folder`);
  if (platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw new Error(`${directory} belongs to another user`);
  if ((stat.mode & 0o077) !== 0) throw new Error(`${directory} is open to other users (mode ${(stat.mode & 0o777).toString(8)})`);
}

/** Makes the folder (mode 0700) if needed and checks it. */
function privateDirectory(environment: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  const directory = noticeDirectory(environment, platform);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  checkPrivate(directory, platform);
  return directory;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseEntry(text: string): RunningGatewayEntry | null {
  try {
    const value = JSON.parse(text) as Partial<RunningGatewayEntry>;
    if (!Number.isInteger(value.pid) || typeof value.service !== 'string' || typeof value.socket !== 'string') return null;
    return { pid: value.pid!, service: value.service, socket: value.socket, startedAt: Number(value.startedAt) || 0 };
  } catch {
    return null;
  }
}

// ─── the gateway's side ────────────────────────────────────────────────────────────────

export interface NoticeListenerOptions {
  /** The keychain service the gateway reads (a notice for another service is answered, but ignored). */
  service: string;
  /** Reads the provider keys again; the notice is answered once this settles. */
  onProviderKeysChanged: () => Promise<void>;
  environment?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Told when the listener cannot start (the gateway then relies on the keychain's timer). */
  onError?: (message: string) => void;
}

export interface NoticeListener {
  /** Resolves once listening (true) or once it gave up (false, after onError). */
  readonly ready: Promise<boolean>;
  /** The socket path or pipe name, null until listening (or when it could not listen). */
  readonly socket: string | null;
  /** How many notices were handled (tests). */
  readonly handled: number;
  /** Stops listening and removes the entry and the socket. */
  close(): Promise<void>;
}

/**
 * Listens for "provider keys changed" notices from `switchyard keys` and announces this
 * process in the runtime folder. Never throws: when it cannot listen it says why once
 * (onError) and the keychain's timer remains.
 */
export function listenForKeyNotices(options: NoticeListenerOptions): NoticeListener {
  const platform = options.platform ?? process.platform;
  const environment = options.environment ?? process.env;
  let socketPath: string | null = null;
  let entryPath: string | null = null;
  let handled = 0;
  let closed = false;
  const connections = new Set<net.Socket>();

  const removeFiles = (): void => {
    for (const file of [entryPath, platform === 'win32' ? null : socketPath]) {
      if (file) rmSync(file, { force: true });
    }
  };
  const onExit = (): void => {
    try {
      removeFiles();
    } catch {
      // Exiting anyway; the CLI removes entries whose process is gone.
    }
  };

  const server = net.createServer((connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    connection.setTimeout(DEFAULT_NOTICE_TIMEOUT_MS, () => connection.destroy());
    connection.on('error', () => connection.destroy());
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (text.length > MAXIMUM_NOTICE_BYTES) {
        connection.destroy();
        return;
      }
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      connection.off('data', onData);
      void answer(connection, text.slice(0, newline));
    };
    connection.on('data', onData);
  });

  const answer = async (connection: net.Socket, line: string): Promise<void> => {
    let notice: { notice?: unknown; service?: unknown } = {};
    try {
      notice = JSON.parse(line) as typeof notice;
    } catch {
      // Answered below as unknown.
    }
    let reply: { ok: boolean; error?: string };
    if (notice.notice !== PROVIDER_KEYS_CHANGED) reply = { ok: false, error: 'unknown notice' };
    else if (notice.service !== options.service) reply = { ok: true };
    else {
      try {
        await options.onProviderKeysChanged();
        handled += 1;
        reply = { ok: true };
      } catch (error) {
        reply = { ok: false, error: String((error as Error)?.message ?? error).slice(0, 200) };
      }
    }
    if (!connection.destroyed) connection.end(`${JSON.stringify(reply)}\n`);
  };

  const ready = new Promise<boolean>((resolve) => {
    const giveUp = (message: string): void => {
      options.onError?.(`provider key changes from \`switchyard keys\` are picked up by the keychain's timer only: ${message}`);
      server.close();
      resolve(false);
    };
    let directory: string;
    try {
      directory = privateDirectory(environment, platform);
    } catch (error) {
      giveUp((error as Error).message);
      return;
    }
    const name = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const path = platform === 'win32' ? `\\\\.\\pipe\\switchyard-notices-${name}` : join(directory, `${name}.sock`);
    if (platform !== 'win32' && Buffer.byteLength(path) > MAXIMUM_SOCKET_PATH) {
      giveUp(`the socket path ${path} is too long; set SWITCHYARD_RUNTIME_DIR to a shorter folder`);
      return;
    }
    server.once('error', (error) => giveUp(error.message));
    server.listen(path, () => {
      if (closed) {
        server.close();
        resolve(false);
        return;
      }
      try {
        if (platform !== 'win32') chmodSync(path, 0o600);
        const entry: RunningGatewayEntry = { pid: process.pid, service: options.service, socket: path, startedAt: Date.now() };
        const file = join(directory, `${name}.json`);
        const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
        writeFileSync(temporary, JSON.stringify(entry), { mode: 0o600 });
        renameSync(temporary, file);
        socketPath = path;
        entryPath = file;
        process.once('exit', onExit);
        resolve(true);
      } catch (error) {
        giveUp((error as Error).message);
      }
    });
    server.unref();
  });

  return {
    ready,
    get socket() {
      return socketPath;
    },
    get handled() {
      return handled;
    },
    async close() {
      if (closed) return;
      closed = true;
      await ready;
      process.off('exit', onExit);
      try {
        removeFiles();
      } catch {
        // Nothing to do: a leftover entry is removed by the next CLI run.
      }
      for (const connection of connections) connection.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ─── the CLI's side ────────────────────────────────────────────────────────────────────

export interface NoticeOutcome {
  pid: number;
  /** True when the gateway answered after reading the keychain again. */
  confirmed: boolean;
  /** Why not, in a few words. */
  error?: string;
}

/** The gateways announced in the runtime folder, their entries removed when the process is gone. */
export function runningGateways(environment: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): RunningGatewayEntry[] {
  const directory = noticeDirectory(environment, platform);
  let names: string[];
  try {
    checkPrivate(directory, platform);
    names = readdirSync(directory);
  } catch {
    return []; // no folder: nothing runs (or the folder is not safe to trust)
  }
  const entries: RunningGatewayEntry[] = [];
  for (const name of names) {
    const match = ENTRY_NAME.exec(name);
    if (!match) continue;
    const file = join(directory, name);
    let entry: RunningGatewayEntry | null = null;
    try {
      entry = parseEntry(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    if (!entry || String(entry.pid) !== match[1]) continue;
    if (!isAlive(entry.pid)) {
      try {
        rmSync(file, { force: true });
        // Only the socket beside the entry, never a path the file merely names.
        const socket = join(directory, name.replace(/\.json$/, '.sock'));
        if (platform !== 'win32' && entry.socket === socket) rmSync(socket, { force: true });
      } catch {
        // Left for the next run: a leftover entry costs nothing but this check.
      }
      continue;
    }
    entries.push(entry);
  }
  return entries;
}

function sendNotice(socket: string, service: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socket);
    let text = '';
    const timer = setTimeout(() => {
      connection.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      connection.destroy();
      if (error) reject(error);
      else resolve();
    };
    connection.on('connect', () => connection.write(`${JSON.stringify({ notice: PROVIDER_KEYS_CHANGED, service })}\n`));
    connection.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.length > MAXIMUM_NOTICE_BYTES) return finish(new Error('an answer too long'));
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      try {
        const reply = JSON.parse(text.slice(0, newline)) as { ok?: unknown; error?: unknown };
        finish(reply.ok === true ? null : new Error(typeof reply.error === 'string' ? reply.error : 'refused'));
      } catch {
        finish(new Error('an answer that is not JSON'));
      }
    });
    connection.on('error', (error) => finish(error));
    connection.on('end', () => finish(new Error('closed without an answer')));
  });
}

/**
 * Tells every running gateway that reads `service` that its provider keys changed, and
 * waits until each has read the keychain again (or failed to answer). Never throws.
 */
export async function announceProviderKeysChanged(options: { service: string; environment?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; timeoutMs?: number }): Promise<NoticeOutcome[]> {
  const gateways = runningGateways(options.environment, options.platform).filter((entry) => entry.service === options.service);
  return Promise.all(
    gateways.map(async (entry): Promise<NoticeOutcome> => {
      try {
        await sendNotice(entry.socket, options.service, options.timeoutMs ?? DEFAULT_NOTICE_TIMEOUT_MS);
        return { pid: entry.pid, confirmed: true };
      } catch (error) {
        return { pid: entry.pid, confirmed: false, error: (error as Error).message.slice(0, 200) };
      }
    }),
  );
}
