/**
 * The preload: exposes only the operations named in the shared contract, never
 * `ipcRenderer` itself and never `process.env`. Each call is checked against the list.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_NAMES, OPERATION_NAMES, type EventName, type OperationName, type SwitchyardBridge } from '../shared/contract';

const operations = new Set<string>(OPERATION_NAMES);
const events = new Set<string>(EVENT_NAMES);

const bridge: SwitchyardBridge = {
  call(name: OperationName, input: unknown) {
    if (!operations.has(name)) return Promise.reject(new Error(`unknown operation ${String(name)}`));
    return ipcRenderer.invoke(`switchyard:${name}`, input);
  },
  on(name: EventName, listener: (payload: unknown) => void) {
    if (!events.has(name)) throw new Error(`unknown event ${String(name)}`);
    const channel = `switchyard-event:${name}`;
    const handler = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => ipcRenderer.removeListener(channel, handler);
  },
} as SwitchyardBridge;

contextBridge.exposeInMainWorld('switchyard', bridge);
