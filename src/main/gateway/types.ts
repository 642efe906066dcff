/**
 * The gateway's own error body (OpenAI's shape, which the gateway answers in), and the request
 * log's domain types re-exported from the core. Requests, responses and the stream event union
 * are the core's (core/types.ts; DESIGN.md, "Streams: one closed event type").
 */

export interface GatewayErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

// The request log's domain types live in the core (storage reads them without the gateway).
export type { AttemptRecord, RequestRecord, RequestWarning, Usage } from '../core/record.js';
