/**
 * undici's `Agent` and `errors`, without undici's index. The index loads every part of the
 * package (fetch, WebSocket, EventSource, cookies, caches, mock agents, and through them
 * Node's own internal copy of undici): about 150 ms of CPU before `serve` listens, for an
 * upstream client that uses the Agent's `request` and the error classes alone (issue 11).
 * The one thing the index does that this needs is mixing the request API into
 * `Dispatcher.prototype`; it is done here the same way (harmless if the index is loaded
 * too: the same functions are assigned again). These are undici's internal files, so an
 * undici upgrade must be checked against its `index.js`.
 */
import type { Agent as AgentClass, errors as ErrorClasses } from 'undici';
// @ts-expect-error undici ships no types for its internal files; typed from the public ones below.
import AgentModule from 'undici/lib/dispatcher/agent.js';
// @ts-expect-error as above
import DispatcherModule from 'undici/lib/dispatcher/dispatcher.js';
// @ts-expect-error as above
import requestApi from 'undici/lib/api/index.js';
// @ts-expect-error as above
import errorsModule from 'undici/lib/core/errors.js';

Object.assign((DispatcherModule as { prototype: object }).prototype, requestApi);

export const Agent = AgentModule as typeof AgentClass;
export type Agent = AgentClass;
export const errors = errorsModule as typeof ErrorClasses;
