/**
 * V8 flags the gateway's process sets once it runs: the ones V8 still reads after it has
 * started. (Heap sizes are fixed when the isolate is made; those are on bin/switchyard.js's
 * shebang line, which has no room left under the 127 bytes old Linux kernels read of it.)
 * V8's flags are the process's: the request writer's thread has them too.
 *
 * `--no-allocation-site-pretenuring`: V8 watches, per object literal in the code, how many of
 * its objects outlive a young-generation collection, and once nearly all of a literal's do, it
 * allocates that literal's later objects straight in the old generation ("pretenures" them). The
 * gateway keeps each request's record, start and summary a while after its answer (the
 * inspector's recent requests, the request log's hand-off), so V8 pretenured those literals —
 * and every old-generation record then points at its own request's young objects (bodies,
 * headers, the decoded request, the parsed answer), which each young-generation collection must
 * treat as alive and copy until the next full collection finds the record dead. With the flag
 * off, at one connection, the objects surviving each young collection fell from ~155 KB to
 * ~57 KB and its pause from ~1.8 to ~0.9 ms; at 10 connections the main thread's collections
 * paused ~11 µs less per request and ran a third as many full collections
 * (docs/benchmarks.md, "Pretenuring, seventh session").
 */
import { setFlagsFromString } from 'node:v8';

export const RUNTIME_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

/**
 * Sets RUNTIME_V8_FLAGS. Idempotent. The CLI's loader calls it before it reads the V8 code
 * cache (the cache records the flags it was made under, so they must be the same when it is
 * made and when it is read); startGateway calls it for every other way in (the desktop app,
 * `npm run serve` from source).
 */
export function applyRuntimeV8Flags(): void {
  for (const flag of RUNTIME_V8_FLAGS) setFlagsFromString(flag);
}
