/**
 * Running the CLI bundle (one CommonJS file, scripts/serve-bundle.ts) with a V8 code cache,
 * so a start does not compile 3 MB of JavaScript again: Node 20 has no
 * `module.enableCompileCache` (22.1+), but `vm.Script` takes `cachedData` and, once the
 * gateway is listening, `createCachedData()` (which then holds the functions compiled
 * during start-up too).
 *
 * The cache is a file per bundle content, Node version and architecture in the cache
 * folder (`SWITCHYARD_CODE_CACHE_DIR`, else `$XDG_CACHE_HOME/switchyard`, else
 * `~/.cache/switchyard`; `SWITCHYARD_CODE_CACHE_DIR=off` turns it off). It starts with a
 * magic line and the SHA-1 of what follows, checked before V8 sees the data (V8 release
 * builds do not checksum code caches). A missing, corrupt, stale, rejected or unwritable
 * cache only means a start as without one; it is (re)written when V8 had none to accept,
 * and the files of older bundles in the folder are removed then.
 * `SWITCHYARD_CODE_CACHE_DEBUG=1` says on stderr what happened (tests and benches read it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { isAscii } from 'node:buffer';

const MAGIC = Buffer.from('switchyard-v8-code-cache 1\n');
/**
 * The same format, for a cache written while no request had come (a start left idle): it
 * lacks the request path's code, so the first start that answers from it writes a whole one.
 */
const IDLE_MAGIC = Buffer.from('switchyard-v8-code-cache i\n');
const DIGEST_BYTES = 20;
const PREFIX = 'cli-';
const SUFFIX = '.v8cache';
const TEMPORARY_SUFFIX = '.tmp';
/** A temporary cache file older than this was left by a start that died while writing it. */
const STALE_TEMPORARY_MS = 60_000;
/**
 * How many other bundles' caches a write leaves beside its own (the most recently written):
 * two installs sharing one cache folder (a global one and a checkout, two versions) each keep
 * theirs instead of deleting the other's at every start, and upgrades leave at most this many.
 */
const OTHER_BUNDLES_KEPT = 3;

/** The folder for code caches, or null when turned off. */
export function codeCacheDirectory(environment: NodeJS.ProcessEnv = process.env): string | null {
  const configured = environment.SWITCHYARD_CODE_CACHE_DIR;
  if (configured !== undefined && configured !== '') return configured === 'off' ? null : configured;
  let base = environment.XDG_CACHE_HOME;
  if (!base) {
    try {
      base = join(homedir(), '.cache');
    } catch {
      // No HOME and no passwd entry (a bare container user): no cache rather than no start.
      return null;
    }
  }
  return join(base, 'switchyard');
}

/**
 * Whether the cache folder may be trusted with code V8 will run: a real folder (not a link),
 * owned by this user and writable by nobody else, or one not made yet. A folder shared with
 * other users (a mistyped SWITCHYARD_CODE_CACHE_DIR, root starting the CLI on a user's
 * ~/.cache) counts as no cache at all. Without POSIX owners (Windows) a folder is a folder.
 */
export function trustedCacheDirectory(directory: string): boolean {
  let stats;
  try {
    stats = lstatSync(directory);
  } catch (error) {
    // Not made yet (it is made 0700 on the first write), or under a file (nothing to read, no write).
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
  if (!stats.isDirectory()) return false;
  if (typeof process.geteuid !== 'function') return true;
  return stats.uid === process.geteuid() && (stats.mode & 0o022) === 0;
}

export type CodeCacheState = 'off' | 'none' | 'invalid' | 'accepted' | 'rejected';

/** The last line of a bundle built by scripts/serve-bundle.ts: the SHA-1 of what precedes it. */
export const BUNDLE_HASH_LINE = '//# switchyard-bundle-sha1=';
const BUNDLE_HASH_PATTERN = /\/\/# switchyard-bundle-sha1=([0-9a-f]{40})\n?$/;

/**
 * The content hash of a bundle: the one the build wrote on its last line (hashing 3 MB at
 * every start costs ~6 ms), else computed. `modified` (size and mtime of the file) is mixed
 * in, so a bundle edited by hand after the build still gets a cache of its own.
 */
export function bundleHash(bundle: Buffer, modified = ''): string {
  const tail = bundle.subarray(Math.max(0, bundle.length - BUNDLE_HASH_LINE.length - 42)).toString('latin1');
  const built = BUNDLE_HASH_PATTERN.exec(tail)?.[1] ?? createHash('sha1').update(bundle).digest('hex');
  return modified === '' ? built : createHash('sha1').update(`${built} ${modified}`).digest('hex');
}

/**
 * The node flags a start runs with (command line, NODE_OPTIONS): V8 rejects a code cache made
 * under other V8 flags (`--max-semi-space-size=4` in bin/switchyard.js's shebang, say), so each
 * set of flags keeps a cache of its own instead of two kinds of start rewriting one file.
 */
export function nodeFlagsKey(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string {
  const flags = [...execArgv, nodeOptions.trim()].filter((flag) => flag.length > 0).join(' ');
  return flags === '' ? '' : `-f${createHash('sha1').update(flags).digest('hex').slice(0, 8)}`;
}

/** The cache file of a bundle: its content hash, the Node version, the architecture and the node flags (when any). */
export function codeCacheFile(directory: string, bundle: Buffer, modified = '', flagsKey = nodeFlagsKey()): string {
  return join(directory, `${PREFIX}${bundleHash(bundle, modified).slice(0, 20)}-${process.version}-${process.arch}${flagsKey}${SUFFIX}`);
}

/** The V8 data of a cache file, or 'none' / 'invalid' (unreadable, truncated, checksum wrong). */
export function readCodeCache(file: string): Buffer | 'none' | 'invalid' {
  const entry = readCodeCacheEntry(file);
  return typeof entry === 'string' ? entry : entry.data;
}

/** A cache file's V8 data and whether it was written before any answer (see IDLE_MAGIC), or 'none' / 'invalid'. */
export function readCodeCacheEntry(file: string): { data: Buffer; idle: boolean } | 'none' | 'invalid' {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'none' : 'invalid';
  }
  const header = MAGIC.length + DIGEST_BYTES;
  if (content.length <= header) return 'invalid';
  const magic = content.subarray(0, MAGIC.length);
  const idle = magic.equals(IDLE_MAGIC);
  if (!idle && !magic.equals(MAGIC)) return 'invalid';
  const data = content.subarray(header);
  const digest = createHash('sha1').update(data).digest();
  return digest.equals(content.subarray(MAGIC.length, header)) ? { data, idle } : 'invalid';
}

/**
 * Writes a cache file atomically (temporary file, then rename) and tidies the folder: stale
 * temporary files go, and other bundles' caches beyond the OTHER_BUNDLES_KEPT most recently
 * written (the same bundle's under other flags stay).
 */
export function writeCodeCache(file: string, data: Buffer, idle = false): void {
  const directory = dirname(file);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  if (!trustedCacheDirectory(directory)) throw new Error(`${directory} is not a folder of this user's that only it can write`);
  // A fresh name, created exclusively: never a file (or link) someone else put there.
  const temporary = `${file}.${process.pid}-${randomBytes(6).toString('hex')}${TEMPORARY_SUFFIX}`;
  try {
    writeFileSync(temporary, Buffer.concat([idle ? IDLE_MAGIC : MAGIC, createHash('sha1').update(data).digest(), data]), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  // Tidying up is best effort: the cache is written either way.
  try {
    tidyCodeCaches(directory, file.slice(directory.length + 1));
  } catch {
    // A file removed meanwhile by another start, or one held open (Windows): left for the next write.
  }
}

/** `cli-<bundle hash>-`: the part of a cache file's name shared by one bundle's caches for every set of flags. */
function bundleKey(name: string): string {
  return name.slice(0, name.indexOf('-', PREFIX.length) + 1);
}

function tidyCodeCaches(directory: string, written: string): void {
  const now = Date.now();
  const own = bundleKey(written);
  // Other bundles' newest write time, by bundle; their files.
  const others = new Map<string, { newest: number; paths: string[] }>();
  for (const entry of readdirSync(directory)) {
    if (entry === written || !entry.startsWith(PREFIX)) continue;
    const path = join(directory, entry);
    if (entry.endsWith(TEMPORARY_SUFFIX)) {
      // Left by a start that died while writing it (a fresh one is another start writing now).
      if (now - statSync(path).mtimeMs > STALE_TEMPORARY_MS) rmSync(path, { force: true });
      continue;
    }
    if (!entry.endsWith(SUFFIX)) continue;
    const key = bundleKey(entry);
    if (key === own) continue;
    const modified = statSync(path).mtimeMs;
    const bundle = others.get(key);
    if (bundle) {
      bundle.newest = Math.max(bundle.newest, modified);
      bundle.paths.push(path);
    } else {
      others.set(key, { newest: modified, paths: [path] });
    }
  }
  const byRecency = [...others.values()].sort((a, b) => b.newest - a.newest);
  for (const bundle of byRecency.slice(OTHER_BUNDLES_KEPT)) {
    for (const path of bundle.paths) rmSync(path, { force: true });
  }
}

export interface CachedBundleRun {
  state: CodeCacheState;
  /**
   * Writes the cache if this start had none V8 accepted, or (`after` an answer) only one
   * written before any request: 'written', 'unneeded', or why it could not be written (never
   * thrown: the cache is optional).
   */
  writeCache(after?: 'answer' | 'idle'): string;
}

/**
 * Compiles and runs the CommonJS bundle at `bundlePath` as Node would `require` it, with
 * the code cache from `cacheDirectory` when there is a valid one.
 */
export function runCachedBundle(bundlePath: string, cacheDirectory: string | null, mark: (phase: string) => void = () => {}): CachedBundleRun {
  const bytes = readFileSync(bundlePath);
  const { size, mtimeMs } = statSync(bundlePath);
  // The build escapes non-ASCII characters: Latin-1 is then the same text without a UTF-8 decode.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  mark('read');
  // A folder others could write is not read: its files would be code V8 runs.
  const file = cacheDirectory === null || !trustedCacheDirectory(cacheDirectory) ? null : codeCacheFile(cacheDirectory, bytes, `${size} ${mtimeMs}`);
  const cached = file === null ? 'none' : readCodeCacheEntry(file);
  const script = new Script(Module.wrap(source), { filename: bundlePath, cachedData: typeof cached === 'string' ? undefined : cached.data });
  const state: CodeCacheState = file === null ? 'off' : typeof cached === 'string' ? cached : script.cachedDataRejected ? 'rejected' : 'accepted';
  mark('compiled');

  const module = new Module(bundlePath);
  module.filename = bundlePath;
  const require = createRequire(bundlePath);
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, directory: string) => void;
  wrapper.call(module.exports, module.exports, require, module, bundlePath, dirname(bundlePath));
  module.loaded = true;
  mark('evaluated');

  // An accepted cache written after an answer is whole; one written idle is redone after this start's first answer.
  let whole = state === 'off' || (state === 'accepted' && typeof cached !== 'string' && !cached.idle);
  let idleWritten = state === 'accepted';
  return {
    state,
    writeCache(after = 'answer') {
      if (whole || file === null || (after === 'idle' && idleWritten)) return 'unneeded';
      if (after === 'idle') idleWritten = true;
      else whole = true;
      try {
        writeCodeCache(file, script.createCachedData(), after === 'idle');
        return after === 'idle' ? 'written (before any request)' : 'written';
      } catch (error) {
        return `not written (${(error as Error).message})`;
      }
    },
  };
}
