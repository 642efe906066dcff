/**
 * "The gateway is listening": a signal from the CLI (bundled in out/main/cli-main.cjs) to
 * its loader (out/main/cli.js), two separately built scripts, so it goes through a
 * process-wide symbol instead of a shared module. The loader writes its V8 code cache then,
 * off the path to the first answered request.
 */
const READY = Symbol.for('switchyard.cli.listening');

type Hooks = Record<symbol, (() => void) | undefined>;

/** Runs `hook` (once) when the CLI says it is listening. */
export function onListening(hook: () => void): void {
  (globalThis as unknown as Hooks)[READY] = hook;
}

/** Said by `switchyard serve` right after "listening on"; nothing happens without a loader. */
export function announceListening(): void {
  const hooks = globalThis as unknown as Hooks;
  const hook = hooks[READY];
  hooks[READY] = undefined;
  hook?.();
}
