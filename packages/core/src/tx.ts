/**
 * Transactions (spec/transaction.md). The signature covers the chain id, signer, nonce, module, method
 * and arguments, so a transaction is valid on exactly one chain and exactly once per account.
 */
import { toHex } from "./bytes.js";
import type { CryptoSuite, KeyPair } from "./crypto/suite.js";
import { decode, encode, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";

export const TX_VERSION = 1;
const TX_SIGN_DOMAIN = "tally/tx/v1";
const NAME_RE = /^[a-z][a-z0-9-]*$/;

export interface TxBody {
  readonly chainId: string;
  /** The signer's public key; the account address is derived from it. */
  readonly signer: Uint8Array;
  readonly nonce: number;
  readonly module: string;
  readonly method: string;
  readonly args: Value;
}

export interface SignedTx extends TxBody {
  readonly signature: Uint8Array;
}

/** A decoded transaction together with the bytes it was decoded from and their hash. */
export interface TxEnvelope {
  readonly tx: SignedTx;
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly hashHex: string;
  readonly sender: string;
}

/** Account address: the first 20 bytes of H(public key), hex. */
export function addressOf(suite: CryptoSuite, publicKey: Uint8Array): string {
  return toHex(suite.hash(publicKey).subarray(0, 20));
}

export function txSignBytes(body: TxBody): Uint8Array {
  return encode([TX_SIGN_DOMAIN, body.chainId, body.signer, body.nonce, body.module, body.method, body.args]);
}

export function encodeTx(tx: SignedTx): Uint8Array {
  return encode([TX_VERSION, tx.chainId, tx.signer, tx.nonce, tx.module, tx.method, tx.args, tx.signature]);
}

function checkName(kind: "module" | "method", name: string): void {
  if (name.length === 0 || name.length > LIMITS.nameLengthMax || !NAME_RE.test(name)) {
    throw new TallyError("BAD_TX", `invalid ${kind} name`, { [kind]: name.slice(0, LIMITS.nameLengthMax) });
  }
}

export function checkTxBody(body: TxBody): void {
  if (typeof body.chainId !== "string" || body.chainId.length === 0 || body.chainId.length > LIMITS.nameLengthMax) {
    throw new TallyError("BAD_TX", "invalid chain id");
  }
  if (!(body.signer instanceof Uint8Array)) throw new TallyError("BAD_TX", "signer must be bytes");
  if (typeof body.nonce !== "number" || !Number.isSafeInteger(body.nonce) || body.nonce < 0) {
    throw new TallyError("BAD_TX", "nonce must be a non-negative integer");
  }
  checkName("module", body.module);
  checkName("method", body.method);
  if (encode(body.args).length > LIMITS.txArgsBytesMax) {
    throw new TallyError("TOO_LARGE", "transaction arguments too large", { max: LIMITS.txArgsBytesMax });
  }
}

/** Structural decode only: the signature is checked by `verifyTx` against the chain's suite. */
export function decodeTx(bytes: Uint8Array): SignedTx {
  if (bytes.length > LIMITS.txBytesMax) {
    throw new TallyError("TOO_LARGE", "transaction too large", { max: LIMITS.txBytesMax, got: bytes.length });
  }
  const value = decode(bytes, LIMITS.txBytesMax);
  if (!Array.isArray(value) || value.length !== 8) throw new TallyError("BAD_TX", "transaction must be an 8-element array");
  const [version, chainId, signer, nonce, module, method, args, signature] = value as Value[];
  if (version !== TX_VERSION) throw new TallyError("BAD_TX", "unsupported transaction version", { version: String(version) });
  if (typeof chainId !== "string" || typeof module !== "string" || typeof method !== "string") {
    throw new TallyError("BAD_TX", "chain id, module and method must be strings");
  }
  if (!(signer instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new TallyError("BAD_TX", "signer and signature must be bytes");
  }
  if (typeof nonce !== "number") throw new TallyError("BAD_TX", "nonce must be an integer");
  const tx: SignedTx = { chainId, signer, nonce, module, method, args: args as Value, signature };
  checkTxBody(tx);
  return tx;
}

/**
 * Everything `verifyTxBytes` checks except the signature: canonical decoding, chain id, key and
 * signature lengths of the chain's suite. For callers that verified the signature elsewhere (the
 * node's verification workers); never use it on bytes whose signature nobody checked.
 */
export function openTxBytes(suite: CryptoSuite, chainId: string, bytes: Uint8Array): TxEnvelope {
  const tx = decodeTx(bytes);
  if (tx.chainId !== chainId) throw new TallyError("WRONG_CHAIN", undefined, { expected: chainId, got: tx.chainId });
  if (tx.signer.length !== suite.publicKeyBytes || tx.signature.length !== suite.signatureBytes) {
    throw new TallyError("WRONG_SUITE", `expected ${suite.id} key and signature`, { suite: suite.id });
  }
  const hash = suite.hash(bytes);
  return { tx, bytes, hash, hashHex: toHex(hash), sender: addressOf(suite, tx.signer) };
}

/**
 * Full admission check of a transaction's bytes for a chain: canonical decoding, chain id, key and
 * signature of the chain's suite. Returns the envelope used everywhere downstream.
 */
export function verifyTxBytes(suite: CryptoSuite, chainId: string, bytes: Uint8Array): TxEnvelope {
  const env = openTxBytes(suite, chainId, bytes);
  if (!suite.verify(env.tx.signer, txSignBytes(env.tx), env.tx.signature)) throw new TallyError("BAD_SIGNATURE");
  return env;
}

export function signTx(suite: CryptoSuite, key: KeyPair, body: Omit<TxBody, "signer">): { tx: SignedTx; bytes: Uint8Array; hash: string } {
  if (key.suite !== suite.id) throw new TallyError("WRONG_SUITE", "key is for another suite", { suite: suite.id, key: key.suite });
  const unsigned: TxBody = { ...body, signer: key.publicKey };
  checkTxBody(unsigned);
  const tx: SignedTx = { ...unsigned, signature: suite.sign(key.privateKey, txSignBytes(unsigned)) };
  const bytes = encodeTx(tx);
  return { tx, bytes, hash: toHex(suite.hash(bytes)) };
}
