/**
 * Signed consensus messages (spec/consensus.md §wire): what a validator signs for a proposal, a
 * prevote or a precommit, and equivocation evidence (two signed votes of one validator for different
 * blocks at one height, round and step) that anyone can check offline against the validator set.
 */
import { equalBytes, toHex } from "./bytes.js";
import type { CryptoSuite } from "./crypto/suite.js";
import { decode, encode, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";
import type { ValidatorSet } from "./validators.js";

export type VoteKind = "prevote" | "precommit";

/** A prevote or precommit with its signature. `blockHash: null` is a vote for nil. */
export interface SignedVote {
  readonly kind: VoteKind;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array | null;
  /** Index into the canonical validator set of `height`. */
  readonly validator: number;
  readonly signature: Uint8Array;
}

const PREVOTE_DOMAIN = "tally/prevote/v1";
const PRECOMMIT_DOMAIN = "tally/precommit/v1";
const PROPOSAL_DOMAIN = "tally/proposal/v1";

/** Bytes a validator signs for a precommit; a commit certificate is a set of such signatures. */
export function precommitSignBytes(chainId: string, height: number, round: number, hash: Uint8Array | null): Uint8Array {
  return encode([PRECOMMIT_DOMAIN, chainId, height, round, hash]);
}

export function prevoteSignBytes(chainId: string, height: number, round: number, hash: Uint8Array | null): Uint8Array {
  return encode([PREVOTE_DOMAIN, chainId, height, round, hash]);
}

export function voteSignBytes(chainId: string, vote: Omit<SignedVote, "signature" | "validator">): Uint8Array {
  return vote.kind === "prevote"
    ? prevoteSignBytes(chainId, vote.height, vote.round, vote.blockHash)
    : precommitSignBytes(chainId, vote.height, vote.round, vote.blockHash);
}

/** Bytes the proposer of (height, round) signs; validRound is -1 for a fresh block. */
export function proposalSignBytes(chainId: string, height: number, round: number, blockHash: Uint8Array, validRound: number): Uint8Array {
  return encode([PROPOSAL_DOMAIN, chainId, height, round, blockHash, validRound]);
}

const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function fail(message: string): never {
  throw new TallyError("BAD_ENCODING", message);
}

/** `[kind (1 prevote, 2 precommit), height, round, blockHash | null, validator, signature]`. */
export function signedVoteToValue(v: SignedVote): Value {
  return [v.kind === "prevote" ? 1 : 2, v.height, v.round, v.blockHash, v.validator, v.signature];
}

export function signedVoteFromValue(value: Value): SignedVote {
  if (!Array.isArray(value) || value.length !== 6) fail("vote must be a 6-element array");
  const [kind, height, round, hash, validator, signature] = value as Value[];
  if (kind !== 1 && kind !== 2) fail("vote kind must be 1 (prevote) or 2 (precommit)");
  if (!isUint(height) || height < 1 || !isUint(round) || !isUint(validator))
    fail("vote height, round and validator must be unsigned integers");
  if (validator >= LIMITS.validatorsMax) fail("vote validator index out of range");
  if (hash !== null && !(hash instanceof Uint8Array && hash.length === 32)) fail("vote block hash must be 32 bytes or null");
  if (!(signature instanceof Uint8Array) || signature.length > 128) fail("vote signature must be bytes");
  return { kind: kind === 1 ? "prevote" : "precommit", height, round, blockHash: hash, validator, signature };
}

/** Checks the vote's signature under `validators` (the set of the vote's height). Throws BAD_SIGNATURE. */
export function verifySignedVote(suite: CryptoSuite, chainId: string, validators: ValidatorSet, vote: SignedVote): void {
  const member = validators.validators[vote.validator];
  if (member === undefined) throw new TallyError("BAD_SIGNATURE", "vote from a non-member index", { index: vote.validator });
  if (!suite.verify(member.publicKey, voteSignBytes(chainId, vote), vote.signature)) {
    throw new TallyError("BAD_SIGNATURE", "invalid vote signature", { index: vote.validator });
  }
}

/** Two conflicting signed votes of one validator: proof that it equivocated. */
export interface Equivocation {
  readonly first: SignedVote;
  readonly second: SignedVote;
}

export function encodeEquivocation(e: Equivocation): Uint8Array {
  return encode([signedVoteToValue(e.first), signedVoteToValue(e.second)]);
}

export function decodeEquivocation(bytes: Uint8Array): Equivocation {
  const value = decode(bytes);
  if (!Array.isArray(value) || value.length !== 2) fail("equivocation must be two votes");
  return { first: signedVoteFromValue(value[0] as Value), second: signedVoteFromValue(value[1] as Value) };
}

function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : equalBytes(a, b);
}

/**
 * Checks that `e` proves equivocation under `validators` (the set of the votes' height): same
 * validator, kind, height and round; different block hashes; both signatures valid.
 * Throws TallyError BAD_EVIDENCE otherwise.
 */
export function verifyEquivocation(suite: CryptoSuite, chainId: string, validators: ValidatorSet, e: Equivocation): void {
  const { first: a, second: b } = e;
  if (a.validator !== b.validator || a.kind !== b.kind || a.height !== b.height || a.round !== b.round) {
    throw new TallyError("BAD_EVIDENCE", "votes are not of one validator, step, height and round");
  }
  if (sameHash(a.blockHash, b.blockHash)) throw new TallyError("BAD_EVIDENCE", "votes are for the same block");
  for (const v of [a, b]) {
    try {
      verifySignedVote(suite, chainId, validators, v);
    } catch (err) {
      if (err instanceof TallyError) throw new TallyError("BAD_EVIDENCE", err.message, err.meta);
      throw err;
    }
  }
}

/** Stable identity of an equivocation: one per (validator key, height, round, kind). */
export function equivocationId(validators: ValidatorSet, e: Equivocation): string {
  const key = validators.validators[e.first.validator]?.publicKey;
  return `${key === undefined ? "?" : toHex(key)}/${e.first.height}/${e.first.round}/${e.first.kind}`;
}
