/**
 * Start-up milestones of `switchyard serve` — listening, then the first answer sent — told
 * by the CLI (bundled in out/main/cli-main.cjs) to its loader (out/main/cli.js), two
 * separately built scripts, so through a process-wide symbol instead of a shared module.
 * The loader writes its V8 code cache after the first answer (so the code of a request is
 * in it too), or a while after listening when no request comes.
 */
import type { Server } from 'node:http';

export type StartupMilestone = 'listening' | 'answered';

const HOOK = Symbol.for('switchyard.cli.startup');

type Hooks = Record<symbol, ((milestone: StartupMilestone) => void) | undefined>;

/** Runs `hook` at each milestone. */
export function onStartupMilestone(hook: (milestone: StartupMilestone) => void): void {
  (globalThis as unknown as Hooks)[HOOK] = hook;
}

function announce(milestone: StartupMilestone): void {
  (globalThis as unknown as Hooks)[HOOK]?.(milestone);
}

/** Said by `switchyard serve` right after "listening on"; nothing happens without a loader. */
export function announceListening(server: Server): void {
  announce('listening');
  server.once('request', (_request, response) => response.once('finish', () => announce('answered')));
}
