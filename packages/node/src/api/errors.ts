/** Maps TallyError codes to HTTP statuses and the stable JSON error body `{ error: { code, message, meta } }`. */
import { type ErrorCode, TallyError } from "@tally/core";

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNKNOWN_SIGNER: 403,
  FORBIDDEN: 403,
  UNAUTHENTICATED: 401,
  UNKNOWN_QUERY: 404,
  NOT_FOUND: 404,
  NONCE_TOO_LOW: 409,
  NONCE_TOO_HIGH: 409,
  DUPLICATE_TX: 409,
  EVIDENCE_EXISTS: 409,
  ACCOUNT_EXISTS: 409,
  MISBEHAVIOUR_EXISTS: 409,
  TOKEN_EXISTS: 409,
  SUPPLY_EXCEEDED: 409,
  INSUFFICIENT_BALANCE: 409,
  ACCOUNT_FROZEN: 409,
  MODULE_FROZEN: 409,
  INVOICE_EXISTS: 409,
  ALREADY_REIMBURSED: 409,
  INVOICE_REVERSED: 409,
  NO_SUCH_INVOICE: 404,
  TOO_LARGE: 413,
  MEMPOOL_FULL: 429,
  ACCOUNT_QUEUE_FULL: 429,
  NODE_STOPPING: 503,
  BUSY: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

export function httpStatus(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

export interface ErrorBody {
  error: { code: string; message: string; meta: Record<string, unknown> };
}

export function errorBody(err: TallyError): ErrorBody {
  return { error: { code: err.code, message: err.message, meta: err.meta } };
}

/** Fastify's own errors (bad JSON, body too large, schema validation) as TallyErrors. */
export function fromFastifyError(err: { code?: string; statusCode?: number; message: string; validation?: unknown }): TallyError {
  if (err instanceof TallyError) return err;
  if (err.validation !== undefined) return new TallyError("BAD_REQUEST", err.message);
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE" || err.statusCode === 413) return new TallyError("TOO_LARGE", "request body too large");
  if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError)
    return new TallyError("BAD_REQUEST", "malformed JSON body");
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new TallyError("BAD_REQUEST", err.message);
  return new TallyError("INTERNAL", "internal error");
}

export const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" }, meta: { type: "object", additionalProperties: true } },
      required: ["code", "message"],
    },
  },
} as const;
