/**
 * Errors are values with stable codes (docs: spec/errors.md). Every refusal anywhere in Tally is a
 * TallyError whose `code` is one of ERROR_CODES; the API maps the code to an HTTP status and a JSON body.
 */
export const ERROR_CODES = {
  // encoding and input shape
  BAD_HEX: "input is not lowercase hex of the expected length",
  BAD_ENCODING: "bytes are not canonical Tally CBOR",
  BAD_REQUEST: "request body or parameters are invalid",
  TOO_LARGE: "input exceeds a limit",
  // crypto
  BAD_KEY: "key bytes are invalid for the crypto suite",
  BAD_SIGNATURE: "signature does not verify",
  UNKNOWN_SUITE: "crypto suite is not supported",
  // transactions
  BAD_TX: "transaction is malformed",
  WRONG_CHAIN: "transaction is for another chain",
  WRONG_SUITE: "key or signature is from another crypto suite",
  UNKNOWN_SIGNER: "signer is not a registered account",
  NONCE_TOO_LOW: "nonce already used (replay)",
  NONCE_TOO_HIGH: "nonce skips ahead of the account's next nonce",
  DUPLICATE_TX: "transaction is already known",
  MEMPOOL_FULL: "mempool limit reached",
  ACCOUNT_QUEUE_FULL: "too many pending transactions for this account",
  UNKNOWN_MODULE: "no such module",
  UNKNOWN_METHOD: "no such method",
  BAD_ARGS: "arguments do not match the method's schema",
  FORBIDDEN: "caller lacks the role this action needs",
  UNAUTHENTICATED: "this query needs a signed request from an account (spec/api.md §queries)",
  UNKNOWN_QUERY: "no such query",
  // module-level outcomes
  EVIDENCE_EXISTS: "this digest is already notarised",
  ACCOUNT_EXISTS: "account already registered",
  NO_SUCH_ORG: "organisation does not exist",
  NO_SUCH_ACCOUNT: "account is not registered",
  TOKEN_EXISTS: "a token with this symbol already exists",
  NO_SUCH_TOKEN: "no token with this symbol",
  SUPPLY_EXCEEDED: "minting would exceed the token's maximum supply",
  INSUFFICIENT_BALANCE: "amount exceeds the account's balance",
  ACCOUNT_FROZEN: "the account is frozen",
  MODULE_FROZEN: "the module is frozen by governance",
  UNKNOWN_ROLE: "no such role (neither built in nor defined by governance)",
  // lookups
  NOT_FOUND: "no such record",
  // proofs and receipts
  BAD_PROOF: "proof does not verify",
  BAD_COMMIT: "commit certificate does not verify",
  BAD_RECEIPT: "receipt does not verify",
  BAD_GENESIS: "genesis document is invalid",
  BAD_EVIDENCE: "misbehaviour evidence does not prove equivocation",
  BAD_BLOCK: "block is invalid for this chain",
  MISBEHAVIOUR_EXISTS: "this equivocation is already recorded",
  // node
  TIMEOUT: "timed out waiting",
  NODE_STOPPING: "node is shutting down",
  BUSY: "node is overloaded; retry later",
  INTERNAL: "internal error",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorMeta = Record<string, string | number | boolean | null | undefined>;

export class TallyError extends Error {
  readonly code: ErrorCode;
  readonly meta: ErrorMeta;

  constructor(code: ErrorCode, message?: string, meta: ErrorMeta = {}) {
    super(message ?? ERROR_CODES[code]);
    this.name = "TallyError";
    this.code = code;
    this.meta = meta;
  }

  toJSON(): { code: ErrorCode; message: string; meta: ErrorMeta } {
    return { code: this.code, message: this.message, meta: this.meta };
  }
}

export function isTallyError(value: unknown): value is TallyError {
  return value instanceof TallyError;
}

/** A broken internal invariant: the process must stop rather than continue with corrupt state. */
export class AssertionFailure extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = "AssertionFailure";
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}
