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
  NO_SUCH_PROPOSAL: 404,
  ALREADY_VOTED: 409,
  PROPOSAL_EXPIRED: 409,
  PROPOSAL_CLOSED: 409,
  PROPOSAL_NOT_PASSED: 409,
  ORG_EXISTS: 409,
  ROLE_EXISTS: 409,
  DOCUMENT_EXISTS: 409,
  DOCUMENT_OVERUSED: 409,
  USE_CLOSED: 409,
  USE_PERMANENT: 409,
  PAYMENT_EXISTS: 409,
  NO_PENDING_TRANSFER: 409,
  NO_DEBTOR: 409,
  NO_SUCH_DOCUMENT: 404,
  NO_SUCH_USE: 404,
  NO_SUCH_ENTITY: 404,
  NO_SUCH_EVENT: 404,
  NO_SUCH_APPLICATION: 404,
  REPAIR_PENDING: 409,
  EVENT_REPAIRED: 409,
  APPLICATION_DECIDED: 409,
  CREDENTIAL_EXISTS: 409,
  CREDENTIAL_REVOKED: 409,
  CREDENTIAL_EXPIRED: 409,
  ISSUER_KEY_EXISTS: 409,
  NO_SUCH_CREDENTIAL: 404,
  NO_SUCH_ISSUER: 404,
  NO_SUCH_ISSUER_KEY: 404,
  NO_SUCH_ROUND: 404,
  NO_SUCH_BATCH: 404,
  ROUND_EXISTS: 409,
  ROUND_CLOSED: 409,
  ROUND_OPEN: 409,
  BATCH_EXISTS: 409,
  DRAW_COMMITTED: 409,
  DRAW_NOT_COMMITTED: 409,
  ALREADY_REVEALED: 409,
  REVEAL_MISMATCH: 409,
  REVEAL_LATE: 409,
  REVEALS_PENDING: 409,
  DRAW_DONE: 409,
  DRAW_VOID: 409,
  NOT_A_DRAWER: 403,
  NO_SUCH_CONTRACT: 404,
  CONTRACT_FROZEN: 409,
  TOO_LARGE: 413,
  MEMPOOL_FULL: 429,
  ACCOUNT_QUEUE_FULL: 429,
  SUBSCRIPTION_LIMIT: 429,
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
