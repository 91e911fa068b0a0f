/** Block headers, blocks and commit certificates (spec/block.md). */
import { equalBytes } from "./bytes.js";
import type { CryptoSuite } from "./crypto/suite.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";
import type { ValidatorSet } from "./validators.js";
import { precommitSignBytes } from "./votes.js";

export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  /** Milliseconds since the Unix epoch, chosen by the proposer; never read from a local clock during execution. */
  readonly timeMs: number;
  /** Hash of the previous header; for height 1, the genesis hash. */
  readonly prevHash: Uint8Array;
  /** Number of transactions: binds the leaf count that Merkle proofs under txRoot and resultsRoot use. */
  readonly txCount: number;
  /** List Merkle root over the block's encoded transactions. */
  readonly txRoot: Uint8Array;
  /** Sparse Merkle root of the state after executing this block. */
  readonly stateRoot: Uint8Array;
  /** List Merkle root over the encoded transaction results. */
  readonly resultsRoot: Uint8Array;
  /** Hash of the validator set that commits this block. */
  readonly validatorsHash: Uint8Array;
  /** Hash of the validator set that commits the next block. */
  readonly nextValidatorsHash: Uint8Array;
  /** Public key of the proposing validator. */
  readonly proposer: Uint8Array;
}

export interface Block {
  readonly header: BlockHeader;
  /** Encoded signed transactions, in execution order. */
  readonly txs: readonly Uint8Array[];
}

export interface CommitSignature {
  /** Index into the canonical (sorted) validator set of this height. */
  readonly validator: number;
  readonly signature: Uint8Array;
}

/** Precommits of more than 2/3 of the voting power for one block: the proof that it is final. */
export interface CommitCertificate {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSignature[];
}

function headerValue(h: BlockHeader): Value {
  return {
    chainId: h.chainId,
    height: h.height,
    timeMs: h.timeMs,
    prevHash: h.prevHash,
    txCount: h.txCount,
    txRoot: h.txRoot,
    stateRoot: h.stateRoot,
    resultsRoot: h.resultsRoot,
    validatorsHash: h.validatorsHash,
    nextValidatorsHash: h.nextValidatorsHash,
    proposer: h.proposer,
  };
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return encode(headerValue(h));
}

export function blockHash(suite: CryptoSuite, header: BlockHeader): Uint8Array {
  return suite.hash(encodeHeader(header));
}

function field<T>(obj: Record<string, Value>, name: string, check: (v: Value | undefined) => boolean, what: string): T {
  const v = obj[name];
  if (!check(v)) throw new TallyError("BAD_ENCODING", `${name} must be ${what}`);
  return v as T;
}

const isBytes32 = (v: Value | undefined): boolean => v instanceof Uint8Array && v.length === 32;
const isBytes = (v: Value | undefined): boolean => v instanceof Uint8Array;
const isUint = (v: Value | undefined): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isString = (v: Value | undefined): boolean => typeof v === "string";

export function headerFromValue(value: Value): BlockHeader {
  if (!isValueMap(value) || Object.keys(value).length !== 11) throw new TallyError("BAD_ENCODING", "header must be an 11-field map");
  return {
    chainId: field(value, "chainId", isString, "a string"),
    height: field(value, "height", isUint, "an unsigned integer"),
    timeMs: field(value, "timeMs", isUint, "an unsigned integer"),
    prevHash: field(value, "prevHash", isBytes32, "32 bytes"),
    txCount: field(value, "txCount", isUint, "an unsigned integer"),
    txRoot: field(value, "txRoot", isBytes32, "32 bytes"),
    stateRoot: field(value, "stateRoot", isBytes32, "32 bytes"),
    resultsRoot: field(value, "resultsRoot", isBytes32, "32 bytes"),
    validatorsHash: field(value, "validatorsHash", isBytes32, "32 bytes"),
    nextValidatorsHash: field(value, "nextValidatorsHash", isBytes32, "32 bytes"),
    proposer: field(value, "proposer", isBytes, "bytes"),
  };
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  return headerFromValue(decode(bytes));
}

export function encodeBlock(block: Block): Uint8Array {
  return encode({ header: headerValue(block.header), txs: [...block.txs] });
}

export function decodeBlock(bytes: Uint8Array): Block {
  const value = decode(bytes);
  if (!isValueMap(value) || !Array.isArray(value.txs)) throw new TallyError("BAD_ENCODING", "block must be {header, txs}");
  const txs = value.txs as Value[];
  if (txs.length > LIMITS.blockTxsMax || !txs.every((t) => t instanceof Uint8Array)) {
    throw new TallyError("BAD_ENCODING", "block txs must be at most blockTxsMax byte strings");
  }
  const header = headerFromValue(value.header as Value);
  if (header.txCount !== txs.length)
    throw new TallyError("BAD_ENCODING", "block holds another number of transactions than its header says");
  return { header, txs: txs as Uint8Array[] };
}

export function commitToValue(c: CommitCertificate): Value {
  return {
    height: c.height,
    round: c.round,
    blockHash: c.blockHash,
    signatures: c.signatures.map((s) => [s.validator, s.signature]),
  };
}

export function commitFromValue(value: Value): CommitCertificate {
  if (!isValueMap(value) || !Array.isArray(value.signatures)) throw new TallyError("BAD_ENCODING", "commit must be a map");
  const sigs = value.signatures as Value[];
  if (sigs.length > LIMITS.validatorsMax) throw new TallyError("BAD_ENCODING", "too many commit signatures");
  return {
    height: field(value, "height", isUint, "an unsigned integer"),
    round: field(value, "round", isUint, "an unsigned integer"),
    blockHash: field(value, "blockHash", isBytes32, "32 bytes"),
    signatures: sigs.map((s) => {
      if (!Array.isArray(s) || s.length !== 2 || !isUint(s[0]) || !(s[1] instanceof Uint8Array)) {
        throw new TallyError("BAD_ENCODING", "commit signature must be [index, bytes]");
      }
      return { validator: s[0] as number, signature: s[1] as Uint8Array };
    }),
  };
}

export function encodeCommit(c: CommitCertificate): Uint8Array {
  return encode(commitToValue(c));
}

export function decodeCommit(bytes: Uint8Array): CommitCertificate {
  return commitFromValue(decode(bytes));
}

/**
 * Checks that `commit` finalises `header` under `validators`: the hashes match and distinct validators
 * holding more than 2/3 of the voting power signed the precommit. Throws TallyError BAD_COMMIT.
 */
export function verifyCommit(suite: CryptoSuite, validators: ValidatorSet, header: BlockHeader, commit: CommitCertificate): void {
  const hash = blockHash(suite, header);
  if (commit.height !== header.height) throw new TallyError("BAD_COMMIT", "commit is for another height");
  if (!equalBytes(commit.blockHash, hash)) throw new TallyError("BAD_COMMIT", "commit is for another block");
  if (!equalBytes(header.validatorsHash, validators.hash)) throw new TallyError("BAD_COMMIT", "header names another validator set");
  const signBytes = precommitSignBytes(header.chainId, commit.height, commit.round, hash);
  const seen = new Set<number>();
  let power = 0;
  for (const sig of commit.signatures) {
    const validator = validators.validators[sig.validator];
    if (validator === undefined) throw new TallyError("BAD_COMMIT", "signature from a non-member index", { index: sig.validator });
    if (seen.has(sig.validator)) throw new TallyError("BAD_COMMIT", "duplicate signer", { index: sig.validator });
    seen.add(sig.validator);
    if (!suite.verify(validator.publicKey, signBytes, sig.signature)) {
      throw new TallyError("BAD_COMMIT", "invalid precommit signature", { index: sig.validator });
    }
    power += validator.power;
  }
  if (power * 3 <= validators.totalPower * 2) {
    throw new TallyError("BAD_COMMIT", "signatures hold at most 2/3 of the voting power", { power, total: validators.totalPower });
  }
}
