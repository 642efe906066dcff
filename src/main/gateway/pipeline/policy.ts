/**
 * The policy seam of the pipeline: small modules that see every model call after it is
 * decoded and before any upstream attempt, and again once it has ended. Rate limits and
 * budgets refuse here, the response cache answers here, tracing opens and closes its span
 * here. A gateway with no policies pays one length check per request.
 */
import type { FastifyRequest } from 'fastify';
import type { GatewayKeyIdentity, RequestRecord } from '../../core/record.js';
import type { CoreRequest, CoreResponse } from '../../core/types.js';
import type { GatewayError } from '../errors.js';

/** What a policy knows of one call. */
export interface PolicyCall {
  /** The request id (as in the log and `x-switchyard-request-id`). */
  id: string;
  /** The endpoint, e.g. `/v1/chat/completions`. */
  endpoint: string;
  core: CoreRequest;
  /** What of the client's request reaches a same-format upstream beyond the core request (see ClientFormat.nativeExtras), if anything. */
  nativeExtras?: Record<string, unknown> | null;
  /** The record so far: gateway key, user, tags, conversation (read only). */
  record: Readonly<RequestRecord>;
  headers: FastifyRequest['headers'];
  /** The gateway key the request was made with (name, default tags), if any. */
  gatewayKey?: GatewayKeyIdentity | null;
  /** The client's own provider key (`x-provider-api-key`), when it sent one: never stored, never logged. */
  byokKey: string | null;
  /** Headers a policy adds to the answer, whatever it turns out to be (`x-switchyard-cache: miss`). */
  replyHeaders: Record<string, string>;
  /** The core answer, once the call succeeded (set before `after` runs; null otherwise). */
  response: CoreResponse | null;
}

/** An answer a policy gives in place of the upstream (a response-cache hit). */
export interface PolicyAnswer {
  response: CoreResponse;
  /** Who gave the answer originally (for the log): provider id and model. */
  provider: string | null;
  model: string;
  /** The answer came from the response cache: logged with cacheHit, costing nothing. */
  cacheHit: boolean;
}

/** A policy's answer before the attempts: go on, refuse with this error (logged as refused), or answer. */
export type PolicyDecision = { refuse: GatewayError } | { answer: PolicyAnswer } | undefined | void;

export interface Policy {
  readonly name: string;
  before?(call: PolicyCall): PolicyDecision | Promise<PolicyDecision>;
  /** The call ended (answered, failed or refused); the record is final. Must not throw. */
  after?(call: PolicyCall, record: Readonly<RequestRecord>): void;
}

/** Runs every policy's `before` in order; the first refusal or answer wins. */
export async function policiesBefore(policies: readonly Policy[], call: PolicyCall): Promise<{ refuse: GatewayError } | { answer: PolicyAnswer } | null> {
  for (const policy of policies) {
    if (!policy.before) continue;
    // Most calls meet policies with nothing to do, answered at once: no await for those.
    const returned = policy.before(call);
    const decision = returned instanceof Promise ? await returned : returned;
    if (decision && ('refuse' in decision || 'answer' in decision)) return decision;
  }
  return null;
}

export function policiesAfter(policies: readonly Policy[], call: PolicyCall, record: Readonly<RequestRecord>): void {
  for (const policy of policies) {
    try {
      policy.after?.(call, record);
    } catch {
      // A policy's bookkeeping never affects an answer already given.
    }
  }
}
