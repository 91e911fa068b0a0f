/**
 * Signed queries (spec/api.md §queries). A query that needs to know who asks (a regulator's audit
 * trail, a bank's own uses of a document) carries a header with the asking account's public key, the
 * time of asking and a signature over the chain id, the query and its arguments. The node checks the
 * signature against the account in its own replica and the time against its clock, so a captured
 * header answers only the same question, and only for a short while. Reads change nothing, so a
 * replay inside that window reveals nothing its holder could not already ask.
 */
import { fromHex, toHex } from "./bytes.js";
import type { CryptoSuite, KeyPair } from "./crypto/suite.js";
import { encode, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";
import { addressOf } from "./tx.js";

/** Distinct from the transaction domain, so a query signature can never pass as a transaction's. */
export const QUERY_SIGN_DOMAIN = "tally/query/v1";

/** The HTTP header that carries `publicKeyHex.timeMs.signatureHex`. */
export const QUERY_AUTH_HEADER = "x-tally-auth";

export interface QueryRequest {
  readonly chainId: string;
  /** Module name, or "audit" for the node's audit endpoints. */
  readonly module: string;
  readonly name: string;
  readonly args: Value;
}

export function querySignBytes(req: QueryRequest, signer: Uint8Array, timeMs: number): Uint8Array {
  return encode([QUERY_SIGN_DOMAIN, req.chainId, signer, req.module, req.name, req.args, timeMs]);
}

/** The header value for `req`, signed now (`timeMs`) by `key`. */
export function signQuery(suite: CryptoSuite, key: KeyPair, req: QueryRequest, timeMs: number): string {
  const signature = suite.sign(key.privateKey, querySignBytes(req, key.publicKey, timeMs));
  return `${toHex(key.publicKey)}.${timeMs}.${toHex(signature)}`;
}

/**
 * Checks a header against `req` and the node's clock; returns the signer's address. Whether that
 * address is a registered account with the roles the query needs is the caller's business.
 */
export function verifyQueryAuth(suite: CryptoSuite, req: QueryRequest, header: string, nowMs: number): string {
  const parts = header.split(".");
  const [keyHex, timeText, signatureHex] = parts;
  if (
    parts.length !== 3 ||
    keyHex === undefined ||
    timeText === undefined ||
    signatureHex === undefined ||
    !/^[0-9]{1,15}$/.test(timeText)
  ) {
    throw new TallyError("UNAUTHENTICATED", `${QUERY_AUTH_HEADER} must be publicKeyHex.timeMs.signatureHex`);
  }
  let publicKey: Uint8Array;
  let signature: Uint8Array;
  try {
    publicKey = fromHex(keyHex, suite.publicKeyBytes);
    signature = fromHex(signatureHex, suite.signatureBytes);
  } catch {
    throw new TallyError("WRONG_SUITE", `expected a ${suite.id} key and signature`, { suite: suite.id });
  }
  const timeMs = Number(timeText);
  if (Math.abs(nowMs - timeMs) > LIMITS.queryAuthSkewMs) {
    throw new TallyError("UNAUTHENTICATED", "the signed query's time is too far from the node's clock", {
      timeMs,
      nodeTimeMs: nowMs,
      skewMaxMs: LIMITS.queryAuthSkewMs,
    });
  }
  if (!suite.verify(publicKey, querySignBytes(req, publicKey, timeMs), signature)) throw new TallyError("BAD_SIGNATURE");
  return addressOf(suite, publicKey);
}
