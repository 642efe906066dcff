/**
 * Starting the desktop app's gateway when its port is taken: the user is asked (use a free
 * port, try the same port again, or quit) and the start is retried as they choose. Any
 * other failure ends the attempt, and the app runs on with the gateway stopped.
 */

export const PORT_TAKEN_BUTTONS = ['Use a free port', 'Try again', 'Quit'] as const;

/** The question, as Electron's `dialog.showMessageBox` options. */
export interface PortTakenQuestion {
  type: 'warning';
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
}

export function portTakenQuestion(port: number): PortTakenQuestion {
  return {
    type: 'warning',
    message: `Port ${port} is already in use`,
    detail:
      'Another program (or another Switchyard) is listening on it. Switchyard can start on a free port instead; tools pointed at the old address will need the new one. You can set a fixed port later in Settings.',
    buttons: [...PORT_TAKEN_BUTTONS],
    defaultId: 0,
    cancelId: 2,
  };
}

export type PortChoice = { action: 'start'; port: number } | { action: 'quit' };

/** The answer (a button index, or the cancel id when the dialog was dismissed) as what to do next. */
export function portChoice(response: number, port: number): PortChoice {
  if (response === 0) return { action: 'start', port: 0 };
  if (response === 1) return { action: 'start', port };
  return { action: 'quit' };
}

export function isPortTaken(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EADDRINUSE';
}

export type PortStartOutcome<T> = { outcome: 'started'; value: T; port: number } | { outcome: 'failed'; error: Error } | { outcome: 'quit' };

export interface StartWithPortChoiceOptions<T> {
  port: number;
  start: (port: number) => Promise<T>;
  /** Shows the question and resolves with the button chosen. */
  ask: (question: PortTakenQuestion) => Promise<number>;
}

/** Starts on `port`, asking again each time the chosen port is taken, until started, failed, or quit. */
export async function startWithPortChoice<T>(options: StartWithPortChoiceOptions<T>): Promise<PortStartOutcome<T>> {
  let port = options.port;
  for (;;) {
    try {
      return { outcome: 'started', value: await options.start(port), port };
    } catch (error) {
      if (!isPortTaken(error)) return { outcome: 'failed', error: error instanceof Error ? error : new Error(String(error)) };
    }
    const choice = portChoice(await options.ask(portTakenQuestion(port)), port);
    if (choice.action === 'quit') return { outcome: 'quit' };
    port = choice.port;
  }
}
