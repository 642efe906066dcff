/**
 * The recorder's hand-over of a finished record: an answer given to `succeeded` goes only once
 * every observer that holds it (the request log's journal) has let go, exactly once, and an
 * observer that fails cannot keep it; an observer that does not hold sees the record first.
 */
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../src/main/gateway/context.js';
import { RequestRecorder } from '../../src/main/gateway/request-record.js';
import type { RequestObserver, RequestRecord } from '../../src/main/core/record.js';

function recorderWith(observers: RequestObserver[]): RequestRecorder {
  const request = { headers: {}, gatewayKey: null } as unknown as FastifyRequest;
  return new RequestRecorder({ observers } as unknown as GatewayContext, request, '/v1/chat/completions');
}

const outcome = { usage: null, finishReason: 'stop', responseBody: { choices: [] } };

describe('request recorder', () => {
  it('answers at once when no observer holds the answer, after every observer saw the record', () => {
    const events: string[] = [];
    const recorder = recorderWith([{ requestFinished: (record) => void events.push(`seen ${record.status}`) }]);
    recorder.succeeded(outcome, () => events.push('answered'));
    expect(events).toEqual(['seen success', 'answered']);
  });

  it('answers once every holding observer has let go, exactly once', () => {
    const releases: Array<() => void> = [];
    const events: string[] = [];
    const holder = (name: string): RequestObserver => ({
      requestFinished: () => events.push(`${name} not asked to hold`),
      requestFinishedBeforeAnswer: (record: RequestRecord, answer: () => void) => {
        events.push(`${name} holds ${record.finishReason}`);
        releases.push(answer);
      },
    });
    const recorder = recorderWith([holder('journal'), holder('mirror'), { requestFinished: () => events.push('tracker') }]);
    recorder.onFinish = () => events.push('policies');
    recorder.succeeded(outcome, () => events.push('answered'));
    expect(events).toEqual(['journal holds stop', 'mirror holds stop', 'tracker', 'policies']);
    releases[1]!();
    expect(events.at(-1)).toBe('policies');
    releases[0]!();
    releases[0]!();
    releases[1]!();
    expect(events.filter((event) => event === 'answered')).toHaveLength(1);
    expect(events.at(-1)).toBe('answered');
  });

  it('an observer that throws while holding does not keep the answer', () => {
    const events: string[] = [];
    const recorder = recorderWith([
      {
        requestFinished: () => events.push('not asked to hold'),
        requestFinishedBeforeAnswer: () => {
          throw new Error('journal broken');
        },
      },
    ]);
    recorder.succeeded(outcome, () => events.push('answered'));
    expect(events).toEqual(['answered']);
  });

  it('without an answer to hold, holding observers see the record as plain observers', () => {
    const events: string[] = [];
    const recorder = recorderWith([{ requestFinished: () => events.push('finished'), requestFinishedBeforeAnswer: () => events.push('held') }]);
    recorder.succeeded(outcome);
    expect(events).toEqual(['finished']);
  });
});
