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
  NO_SUCH_PROPOSAL: "no governance proposal with this id",
  ALREADY_VOTED: "this organisation has already voted on the proposal",
  PROPOSAL_EXPIRED: "the proposal's voting period is over",
  PROPOSAL_CLOSED: "the proposal is closed (executed or rejected)",
  PROPOSAL_NOT_PASSED: "the proposal has not passed",
  ORG_EXISTS: "an organisation with this id already exists",
  ROLE_EXISTS: "a role with this name already exists",
  INVOICE_EXISTS: "the issuing organisation already issued an invoice with this number",
  NO_SUCH_INVOICE: "no invoice with this number from this issuing organisation",
  ALREADY_REIMBURSED: "the invoice has already been reimbursed",
  INVOICE_REVERSED: "the invoice has been reversed",
  DOCUMENT_EXISTS: "a document with this key is already registered",
  NO_SUCH_DOCUMENT: "no document with this key",
  DOCUMENT_OVERUSED: "the uses of the document would exceed its face value",
  NO_SUCH_USE: "the document has no use with this id",
  USE_CLOSED: "the use is already released",
  USE_PERMANENT: "a payment use is permanent and cannot be released",
  PAYMENT_EXISTS: "this payment id is already recorded for the document",
  NO_PENDING_TRANSFER: "the document has no pending transfer (to this organisation)",
  NO_DEBTOR: "the document was registered without a debtor, who must confirm transfers",
  NO_SUCH_ENTITY: "no credit record for this entity",
  NO_SUCH_EVENT: "the entity has no credit event with this id",
  NO_SUCH_APPLICATION: "the entity has no repair application with this id",
  REPAIR_PENDING: "the credit event already has an open repair application",
  EVENT_REPAIRED: "the credit event has already been repaired",
  APPLICATION_DECIDED: "the repair application has already been decided",
  CREDENTIAL_EXISTS: "the issuer already recorded a credential with this id",
  NO_SUCH_CREDENTIAL: "the issuer recorded no credential with this id",
  CREDENTIAL_REVOKED: "the credential has been revoked",
  CREDENTIAL_EXPIRED: "the credential has expired",
  CREDENTIAL_INVALID: "the credential or presentation does not check out (see meta.reason)",
  NO_SUCH_ISSUER: "the organisation has registered no credential issuer key",
  NO_SUCH_ISSUER_KEY: "no active issuer key with this id for the organisation",
  ISSUER_KEY_EXISTS: "the organisation already registered a key with this id",
  NO_SUCH_ROUND: "no lottery round with this id",
  ROUND_EXISTS: "a lottery round with this id already exists",
  ROUND_CLOSED: "the round's sales are closed (past its close height)",
  ROUND_OPEN: "the round's sales are still open (not past its close height)",
  BATCH_EXISTS: "the round already has a batch with this id",
  NO_SUCH_BATCH: "the round has no batch with this id",
  NOT_A_DRAWER: "the caller's organisation is not a drawer of the round",
  DRAW_COMMITTED: "this organisation has already committed to the round's draw",
  DRAW_NOT_COMMITTED: "this organisation made no draw commitment for the round",
  ALREADY_REVEALED: "this organisation has already revealed its draw secret",
  REVEAL_MISMATCH: "the secret does not match the organisation's commitment",
  REVEAL_LATE: "the round's reveal deadline has passed",
  REVEALS_PENDING: "committed drawers may still reveal (before the reveal deadline)",
  DRAW_DONE: "the round has already been drawn",
  DRAW_VOID: "the round's draw is void (too few reveals)",
  NO_SUCH_CONTRACT: "no contract at this address",
  CONTRACT_SYNTAX: "the contract source does not compile (see message)",
  CONTRACT_INVALID: "the contract source does not define globalThis.__contract with methods",
  CONTRACT_NO_METHOD: "the contract has no callable method of this name",
  CONTRACT_FROZEN: "the contract is frozen by governance",
  CONTRACT_ERROR: "the contract threw (see message)",
  CONTRACT_MEMORY: "the contract exceeded its memory limit",
  CONTRACT_STACK: "the contract exceeded its stack limit (too deep recursion)",
  CONTRACT_DEPTH: "contract-to-contract calls are nested too deeply",
  CONTRACT_RESULT: "the contract returned or passed a value that is not JSON within the limits",
  OUT_OF_GAS: "the call ran out of gas; its writes are discarded",
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
  SUBSCRIPTION_LIMIT: "this connection holds the most subscriptions it may (spec/api.md §events)",
  ENGINE_MISMATCH: "this node's contract engine is not the one the chain's genesis pins",
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
