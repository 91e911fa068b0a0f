/** Validator sets (spec/block.md §validators). Order is canonical: by public key bytes. */
import { compareBytes, toHex } from "./bytes.js";
import type { CryptoSuite } from "./crypto/suite.js";
import { encode } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";

export interface Validator {
  readonly publicKey: Uint8Array;
  readonly power: number;
}

export interface ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: number;
  readonly hash: Uint8Array;
}

export function makeValidatorSet(suite: CryptoSuite, validators: readonly Validator[]): ValidatorSet {
  if (validators.length === 0 || validators.length > LIMITS.validatorsMax) {
    throw new TallyError("BAD_GENESIS", "validator count out of range", { max: LIMITS.validatorsMax, got: validators.length });
  }
  const sorted = [...validators].sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  let totalPower = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as Validator;
    suite.checkPublicKey(v.publicKey);
    if (!Number.isSafeInteger(v.power) || v.power <= 0) throw new TallyError("BAD_GENESIS", "validator power must be a positive integer");
    if (i > 0 && compareBytes((sorted[i - 1] as Validator).publicKey, v.publicKey) === 0) {
      throw new TallyError("BAD_GENESIS", "duplicate validator key", { publicKey: toHex(v.publicKey) });
    }
    totalPower += v.power;
  }
  if (!Number.isSafeInteger(totalPower)) throw new TallyError("BAD_GENESIS", "total voting power overflows");
  const hash = suite.hash(encode(sorted.map((v) => [v.publicKey, v.power])));
  return { validators: sorted, totalPower, hash };
}

export function validatorIndex(set: ValidatorSet, publicKey: Uint8Array): number {
  return set.validators.findIndex((v) => compareBytes(v.publicKey, publicKey) === 0);
}
