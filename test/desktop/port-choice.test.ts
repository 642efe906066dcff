/**
 * The desktop app's start when its port is taken: the question asked, each answer's
 * effect (a free port, the same port again, quit), and other failures ending the attempt.
 */
import { describe, expect, it } from 'vitest';
import { isPortTaken, portChoice, portTakenQuestion, startWithPortChoice, type PortTakenQuestion } from '../../src/main/desktop/port-choice.js';

function taken(): Error {
  return Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4141'), { code: 'EADDRINUSE' });
}

/** A start that fails with EADDRINUSE for the ports in `busy`, and records every port tried. */
function starter(busy: Set<number>) {
  const tried: number[] = [];
  return {
    tried,
    start: async (port: number) => {
      tried.push(port);
      if (busy.has(port)) throw taken();
      return { origin: `http://127.0.0.1:${port === 0 ? 50123 : port}` };
    },
  };
}

function answers(...responses: number[]) {
  const asked: PortTakenQuestion[] = [];
  return {
    asked,
    ask: async (question: PortTakenQuestion) => {
      asked.push(question);
      const response = responses.shift();
      if (response === undefined) throw new Error('asked more often than expected');
      return response;
    },
  };
}

describe('the question', () => {
  it('names the port and offers a free port (default), trying again, or quitting (cancel)', () => {
    const question = portTakenQuestion(4141);
    expect(question.message).toBe('Port 4141 is already in use');
    expect(question.detail).toContain('free port');
    expect(question.buttons).toEqual(['Use a free port', 'Try again', 'Quit']);
    expect(question.buttons[question.defaultId]).toBe('Use a free port');
    expect(question.buttons[question.cancelId]).toBe('Quit');
  });

  it('maps each answer to what happens next', () => {
    expect(portChoice(0, 4141)).toEqual({ action: 'start', port: 0 });
    expect(portChoice(1, 4141)).toEqual({ action: 'start', port: 4141 });
    expect(portChoice(2, 4141)).toEqual({ action: 'quit' });
    // A dialog closed some other way never starts anything unexpected.
    expect(portChoice(7, 4141)).toEqual({ action: 'quit' });
  });

  it('is asked only for a taken port', () => {
    expect(isPortTaken(taken())).toBe(true);
    expect(isPortTaken(Object.assign(new Error('denied'), { code: 'EACCES' }))).toBe(false);
    expect(isPortTaken('EADDRINUSE')).toBe(false);
    expect(isPortTaken(null)).toBe(false);
  });
});

describe('startWithPortChoice', () => {
  it('starts on the configured port without asking when it is free', async () => {
    const { start, tried } = starter(new Set());
    const { ask, asked } = answers();
    await expect(startWithPortChoice({ port: 4141, start, ask })).resolves.toEqual({ outcome: 'started', value: { origin: 'http://127.0.0.1:4141' }, port: 4141 });
    expect(tried).toEqual([4141]);
    expect(asked).toEqual([]);
  });

  it('"Use a free port" starts on port 0', async () => {
    const { start, tried } = starter(new Set([4141]));
    const { ask, asked } = answers(0);
    const result = await startWithPortChoice({ port: 4141, start, ask });
    expect(result).toMatchObject({ outcome: 'started', port: 0 });
    expect(tried).toEqual([4141, 0]);
    expect(asked.map((question) => question.message)).toEqual(['Port 4141 is already in use']);
  });

  it('"Try again" retries the same port, asking each time it is still taken', async () => {
    const busy = new Set([4141]);
    const { start, tried } = starter(busy);
    let round = 0;
    const ask = async () => {
      round += 1;
      if (round === 2) busy.delete(4141);
      return 1;
    };
    await expect(startWithPortChoice({ port: 4141, start, ask })).resolves.toMatchObject({ outcome: 'started', port: 4141 });
    expect(tried).toEqual([4141, 4141, 4141]);
    expect(round).toBe(2);
  });

  it('"Quit" quits', async () => {
    const { start } = starter(new Set([4141]));
    await expect(startWithPortChoice({ port: 4141, start, ask: answers(2).ask })).resolves.toEqual({ outcome: 'quit' });
  });

  it('another failure ends the attempt with its error, without asking', async () => {
    const { ask, asked } = answers();
    const result = await startWithPortChoice({ port: 4141, start: async () => Promise.reject(Object.assign(new Error('not allowed'), { code: 'EACCES' })), ask });
    expect(result).toEqual({ outcome: 'failed', error: expect.objectContaining({ message: 'not allowed' }) });
    expect(asked).toEqual([]);
    await expect(startWithPortChoice({ port: 1, start: async () => Promise.reject('a string'), ask })).resolves.toEqual({ outcome: 'failed', error: new Error('a string') });
  });
});
