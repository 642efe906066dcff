/** A SwitchyardClient for store tests: answers operations from a table and lets a test push events. */
import type { EventName, Events, OperationInput, OperationName, OperationOutput } from '../../src/shared/contract.js';
import { ListenerRegistry, type SwitchyardClient } from '../../src/renderer/src/client/switchyard-client.js';

export type Answers = { [Name in OperationName]?: (input: OperationInput<Name>) => OperationOutput<Name> | Promise<OperationOutput<Name>> };

export class FakeClient implements SwitchyardClient {
  readonly transport = 'http' as const;
  readonly connected = true;
  readonly calls: Array<{ name: OperationName; input: unknown }> = [];
  private readonly listeners = new ListenerRegistry();

  constructor(private readonly answers: Answers) {}

  async call<Name extends OperationName>(name: Name, input: OperationInput<Name>): Promise<OperationOutput<Name>> {
    this.calls.push({ name, input });
    const answer = this.answers[name] as ((value: OperationInput<Name>) => OperationOutput<Name>) | undefined;
    if (!answer) throw new Error(`no answer for ${name}`);
    return answer(input);
  }

  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void {
    return this.listeners.add(name, listener as (payload: unknown) => void);
  }

  emit<Name extends EventName>(name: Name, payload: Events[Name]): void {
    this.listeners.dispatch(name, payload);
  }

  onConnectionChange(): () => void {
    return () => undefined;
  }
}
