/**
 * Following validator-set changes from genesis (spec/validators.md §proofs). A verifier that trusts
 * only the genesis set learns each later set from a hop: the header of the height k after which the
 * set changes, its commit certificate (checked under the set trusted at k) and the full list of the
 * next set, whose hash the certified header names in `nextValidatorsHash`.
 */
import {
  type BlockHeader,
  type CommitCertificate,
  commitFromValue,
  commitToValue,
  decodeHeader,
  encodeHeader,
  verifyCommit,
} from "./block.js";
import { compareBytes, equalBytes } from "./bytes.js";
import type { CryptoSuite } from "./crypto/suite.js";
import { hasExactKeys, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";
import { makeValidatorSet, type Validator, type ValidatorSet } from "./validators.js";

/** One certified change of the validator set: set(header.height + 1) = nextValidators ≠ set(header.height). */
export interface ValidatorSetHop {
  readonly header: BlockHeader;
  /** Commit certificate of `header`, by more than 2/3 of the set trusted at its height. */
  readonly commit: CommitCertificate;
  /** The set that commits the next height, in canonical order; its hash is `header.nextValidatorsHash`. */
  readonly nextValidators: readonly Validator[];
}

const isUint = (v: Value | undefined): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function badEncoding(message: string): never {
  throw new TallyError("BAD_ENCODING", message);
}

/** A validator list as the set hash covers it: `[[publicKey, power], ...]`. */
export function validatorsToValue(validators: readonly Validator[]): Value {
  return validators.map((v) => [v.publicKey, v.power]);
}

/**
 * Strict decoding of `[[publicKey, power], ...]`: 1..validatorsMax entries, byte-string keys in strictly
 * increasing order (so one set has one encoding), positive safe-integer powers. Key validity for a suite
 * is checked by `makeValidatorSet`. Throws TallyError BAD_ENCODING.
 */
export function validatorsFromValue(value: Value): Validator[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.validatorsMax) {
    badEncoding(`validator list must hold 1 to ${LIMITS.validatorsMax} entries`);
  }
  const out: Validator[] = [];
  for (const entry of value as readonly Value[]) {
    if (!Array.isArray(entry) || entry.length !== 2) badEncoding("validator must be [publicKey, power]");
    const [publicKey, power] = entry as readonly Value[];
    if (!(publicKey instanceof Uint8Array) || publicKey.length === 0 || publicKey.length > 128) badEncoding("validator key must be bytes");
    if (!isUint(power) || power === 0) badEncoding("validator power must be a positive integer");
    const prev = out[out.length - 1];
    if (prev !== undefined && compareBytes(prev.publicKey, publicKey) >= 0) {
      badEncoding("validators must be sorted by public key, without duplicates");
    }
    out.push({ publicKey: new Uint8Array(publicKey), power });
  }
  return out;
}

export function validatorSetHopToValue(hop: ValidatorSetHop): Value {
  return { header: encodeHeader(hop.header), commit: commitToValue(hop.commit), nextValidators: validatorsToValue(hop.nextValidators) };
}

export function validatorSetHopFromValue(value: Value): ValidatorSetHop {
  if (!isValueMap(value) || !hasExactKeys(value, ["header", "commit", "nextValidators"])) {
    badEncoding("validator-set hop must be a map of header, commit, nextValidators");
  }
  if (!(value.header instanceof Uint8Array)) badEncoding("hop header must be bytes");
  return {
    header: decodeHeader(value.header),
    commit: commitFromValue(value.commit as Value),
    nextValidators: validatorsFromValue(value.nextValidators as Value),
  };
}

/** `[hop, ...]`; the empty list is a valid value (the receipt omits it instead: spec/receipt.md). */
export function validatorProofToValue(hops: readonly ValidatorSetHop[]): Value {
  return hops.map(validatorSetHopToValue);
}

/** Throws TallyError BAD_ENCODING unless `value` is a list of at most `LIMITS.validatorHopsMax` hops. */
export function validatorProofFromValue(value: Value): ValidatorSetHop[] {
  if (!Array.isArray(value) || value.length > LIMITS.validatorHopsMax) {
    badEncoding(`validator proof must be a list of at most ${LIMITS.validatorHopsMax} hops`);
  }
  return (value as readonly Value[]).map(validatorSetHopFromValue);
}

function badProof(message: string, meta: Record<string, string | number> = {}): never {
  throw new TallyError("BAD_PROOF", message, meta);
}

/**
 * Walks `hops` from `genesisSet` and returns the set trusted at `targetHeight`. Each hop must be for
 * `chainId`, at a height strictly above the previous hop's and strictly below `targetHeight`, carry a
 * commit that verifies under the set trusted so far, and a next list whose hash is the header's
 * `nextValidatorsHash` and differs from the trusted set. Throws TallyError BAD_PROOF naming the hop.
 *
 * What this proves: a chain of certificates, each by more than 2/3 of the power of the set the
 * previous link made trusted, leads from genesis to the returned set. It does not prove the list is
 * complete or that later changes did not happen (spec/validators.md §what is proven).
 */
export function verifyValidatorChain(
  suite: CryptoSuite,
  chainId: string,
  genesisSet: ValidatorSet,
  hops: readonly ValidatorSetHop[],
  targetHeight: number,
): ValidatorSet {
  if (!Number.isSafeInteger(targetHeight) || targetHeight < 1) badProof("target height must be a positive integer");
  if (hops.length > LIMITS.validatorHopsMax) badProof("too many validator-set hops", { max: LIMITS.validatorHopsMax, got: hops.length });
  let trusted = genesisSet;
  let lastHeight = 0;
  for (let i = 0; i < hops.length; i++) {
    const { header, commit, nextValidators } = hops[i] as ValidatorSetHop;
    const meta = { hop: i, height: header.height };
    if (header.chainId !== chainId) badProof("validator-set hop is for another chain", meta);
    if (header.height <= lastHeight) badProof("validator-set hops must be in strictly increasing height order", meta);
    if (header.height >= targetHeight) badProof("validator-set hop is not below the target height", { ...meta, target: targetHeight });
    try {
      verifyCommit(suite, trusted, header, commit);
    } catch (err) {
      if (!(err instanceof TallyError)) throw err;
      badProof(`validator-set hop commit: ${err.message}`, meta);
    }
    let next: ValidatorSet;
    try {
      next = makeValidatorSet(suite, nextValidators);
    } catch (err) {
      if (!(err instanceof TallyError)) throw err;
      badProof(`validator-set hop next set: ${err.message}`, meta);
    }
    if (!equalBytes(header.nextValidatorsHash, next.hash))
      badProof("next validator list does not match the header's nextValidatorsHash", meta);
    if (equalBytes(next.hash, trusted.hash)) badProof("validator-set hop does not change the set", meta);
    trusted = next;
    lastHeight = header.height;
  }
  return trusted;
}
