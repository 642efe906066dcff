/**
 * The preload: exposes one named function per operation of the shared contract (and a
 * `call`/`on` pair checked against the same lists) — never `ipcRenderer` itself and never
 * `process.env`. Generated from the contract's name lists, so it cannot drift from it.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_NAMES, OPERATION_NAMES, type EventName, type OperationName, type SwitchyardBridge, type SwitchyardOperations } from '../shared/contract';

const operationSet = new Set<string>(OPERATION_NAMES);
const eventSet = new Set<string>(EVENT_NAMES);

function invoke(name: OperationName, input: unknown): Promise<unknown> {
  if (!operationSet.has(name)) return Promise.reject(new Error(`unknown operation ${String(name)}`));
  return ipcRenderer.invoke(`switchyard:${name}`, input);
}

const operations = Object.fromEntries(OPERATION_NAMES.map((name) => [name, (input: unknown) => invoke(name, input)])) as unknown as SwitchyardOperations;

const bridge = {
  operations,
  call: (name: OperationName, input: unknown) => invoke(name, input),
  on(name: EventName, listener: (payload: unknown) => void): () => void {
    if (!eventSet.has(name)) throw new Error(`unknown event ${String(name)}`);
    const channel = `switchyard-event:${name}`;
    // The Electron event object (with its sender) never reaches the page.
    const handler = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
} as unknown as SwitchyardBridge;

contextBridge.exposeInMainWorld('switchyard', bridge);
