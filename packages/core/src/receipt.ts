/**
 * Receipts (spec/receipt.md): everything an offline verifier needs, besides the genesis file, to be
 * convinced that a transaction was committed at a height with a result, and optionally that a state
 * key held a value right after that block. Verification trusts nothing in the receipt: it follows the
 * validator-set changes from the genesis set (spec/validators.md), checks the commit certificate
 * against the set that results and every Merkle path against the header.
 */
import {
  type BlockHeader,
  blockHash,
  type CommitCertificate,
  commitFromValue,
  commitToValue,
  decodeHeader,
  encodeHeader,
  verifyCommit,
} from "./block.js";
import { equalBytes } from "./bytes.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import type { Genesis } from "./genesis.js";
import { decodeMerkleProof, encodeMerkleProof, type MerkleProof, verifyMerkleProof } from "./merkle.js";
import { decodeResult, type TxResult } from "./result.js";
import { decodeSmtProof, encodeSmtProof, type SmtProof, verifySmtProof } from "./smt.js";
import { decodeTx, type SignedTx, txSignBytes } from "./tx.js";
import type { ValidatorSet } from "./validators.js";
import { type ValidatorSetHop, validatorProofFromValue, validatorProofToValue, verifyValidatorChain } from "./valset-proof.js";

export const RECEIPT_FORMAT = "tally-receipt/1";

export interface StateEntryProof {
  readonly key: Uint8Array;
  /** null proves the key absent right after the block. */
  readonly value: Uint8Array | null;
  readonly proof: SmtProof;
}

export interface Receipt {
  readonly header: BlockHeader;
  readonly commit: CommitCertificate;
  readonly tx: Uint8Array;
  readonly txProof: MerkleProof;
  readonly result: Uint8Array;
  readonly resultProof: MerkleProof;
  readonly state: StateEntryProof | null;
  /**
   * The validator-set changes from genesis up to the receipt's height, oldest first. Absent (or empty)
   * when the block is committed by the genesis set; an empty list is encoded as absent, so receipts of
   * chains whose set never changed keep their exact bytes.
   */
  readonly validatorProof?: readonly ValidatorSetHop[];
}

export interface VerifiedReceipt {
  readonly blockHash: Uint8Array;
  readonly header: BlockHeader;
  readonly txHash: Uint8Array;
  readonly tx: SignedTx;
  readonly result: TxResult;
  readonly state: { readonly key: Uint8Array; readonly value: Uint8Array | null } | null;
  /** The validator set that committed the block, reached from genesis through `validatorProof`. */
  readonly validators: ValidatorSet;
}

const RECEIPT_KEYS = ["format", "header", "commit", "tx", "txProof", "result", "resultProof", "state"] as const;

export function receiptToValue(r: Receipt): Value {
  const proof = r.validatorProof ?? [];
  return {
    ...(proof.length === 0 ? {} : { validatorProof: validatorProofToValue(proof) }),
    format: RECEIPT_FORMAT,
    header: encodeHeader(r.header),
    commit: commitToValue(r.commit),
    tx: r.tx,
    txProof: encodeMerkleProof(r.txProof),
    result: r.result,
    resultProof: encodeMerkleProof(r.resultProof),
    state: r.state === null ? null : { key: r.state.key, value: r.state.value, proof: encodeSmtProof(r.state.proof) },
  };
}

export function encodeReceipt(r: Receipt): Uint8Array {
  return encode(receiptToValue(r));
}

function bad(message: string): never {
  throw new TallyError("BAD_RECEIPT", message);
}

/** Decodes receipt bytes; any structural problem is a BAD_RECEIPT. */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  try {
    const v = decode(bytes) as Record<string, Value>;
    if (!isValueMap(v) || v.format !== RECEIPT_FORMAT) bad("not a tally receipt");
    for (const key of Object.keys(v)) {
      if (!(RECEIPT_KEYS as readonly string[]).includes(key) && key !== "validatorProof") bad(`unknown receipt field ${key}`);
    }
    for (const key of RECEIPT_KEYS) if (!Object.hasOwn(v, key)) bad(`missing receipt field ${key}`);
    let validatorProof: ValidatorSetHop[] | undefined;
    if (Object.hasOwn(v, "validatorProof")) {
      validatorProof = validatorProofFromValue(v.validatorProof as Value);
      // Absent is the one encoding of "no changes".
      if (validatorProof.length === 0) bad("an empty validatorProof must be omitted");
    }
    if (!(v.header instanceof Uint8Array) || !(v.tx instanceof Uint8Array) || !(v.result instanceof Uint8Array)) {
      bad("header, tx and result must be bytes");
    }
    let state: StateEntryProof | null = null;
    if (v.state !== null) {
      const s = v.state as Record<string, Value>;
      if (s === null || typeof s !== "object" || !(s.key instanceof Uint8Array) || !(s.value === null || s.value instanceof Uint8Array)) {
        bad("state must be {key, value, proof}");
      }
      state = { key: s.key, value: s.value as Uint8Array | null, proof: decodeSmtProof(s.proof as Value) };
    }
    return {
      header: decodeHeader(v.header),
      commit: commitFromValue(v.commit as Value),
      tx: v.tx,
      txProof: decodeMerkleProof(v.txProof as Value),
      result: v.result,
      resultProof: decodeMerkleProof(v.resultProof as Value),
      state,
      ...(validatorProof === undefined ? {} : { validatorProof }),
    };
  } catch (err) {
    if (err instanceof TallyError && err.code === "BAD_RECEIPT") throw err;
    throw new TallyError("BAD_RECEIPT", `malformed receipt: ${(err as Error).message}`);
  }
}

/**
 * Checks that `header` is certified by the chain of `genesis`: same chain, the validator-set hops lead
 * from the genesis set to the set the header names, and the commit certificate verifies under it.
 * Returns that set; any failure goes to `fail` with the reason (each proof format has its own code).
 */
export function verifyCertifiedHeader(
  genesis: Genesis,
  header: BlockHeader,
  commit: CommitCertificate,
  validatorProof: readonly ValidatorSetHop[] | undefined,
  fail: (reason: string) => never,
): ValidatorSet {
  const { suite } = genesis;
  if (header.chainId !== genesis.doc.chainId) fail("the block is of another chain");
  let validators: ValidatorSet;
  try {
    validators = verifyValidatorChain(suite, header.chainId, genesis.validators, validatorProof ?? [], header.height);
  } catch (err) {
    fail(`validator-set proof: ${(err as Error).message}`);
  }
  if (!equalBytes(header.validatorsHash, validators.hash)) fail("header names another validator set than the proof leads to");
  try {
    verifyCommit(suite, validators, header, commit);
  } catch (err) {
    fail(`commit certificate: ${(err as Error).message}`);
  }
  return validators;
}

/**
 * Verifies a receipt against a genesis: the genesis validator set is the root of trust, the receipt's
 * `validatorProof` leads from it to the set of the receipt's height (spec/validators.md), and the
 * block's commit must verify under that set. Throws TallyError BAD_RECEIPT (with the reason) unless
 * every check passes.
 */
export function verifyReceipt(genesis: Genesis, receipt: Receipt): VerifiedReceipt {
  const { suite } = genesis;
  const { header } = receipt;
  const validators = verifyCertifiedHeader(genesis, header, receipt.commit, receipt.validatorProof, bad);
  if (!verifyMerkleProof(suite.hash, header.txRoot, receipt.tx, receipt.txProof)) bad("transaction is not in the block");
  if (!verifyMerkleProof(suite.hash, header.resultsRoot, receipt.result, receipt.resultProof)) bad("result is not in the block");
  if (receipt.txProof.index !== receipt.resultProof.index) bad("result belongs to another transaction");
  // The proofs' leaf counts are not covered by their paths (RFC 9162): the header's count binds them.
  if (receipt.txProof.total !== header.txCount || receipt.resultProof.total !== header.txCount) {
    bad("proof leaf count differs from the block's transaction count");
  }
  let tx: SignedTx;
  let result: TxResult;
  try {
    tx = decodeTx(receipt.tx);
    result = decodeResult(receipt.result);
  } catch (err) {
    bad(`undecodable transaction or result: ${(err as Error).message}`);
  }
  const txHash = suite.hash(receipt.tx);
  if (!equalBytes(result.txHash, txHash)) bad("result names another transaction");
  if (tx.chainId !== header.chainId) bad("transaction is for another chain");
  if (!suite.verify(tx.signer, txSignBytes(tx), tx.signature)) bad("transaction signature does not verify");
  let state: VerifiedReceipt["state"] = null;
  if (receipt.state !== null) {
    const { key, value, proof } = receipt.state;
    if (!verifySmtProof(suite.hash, header.stateRoot, key, value, proof)) bad("state proof does not verify");
    state = { key, value };
  }
  return { blockHash: blockHash(suite, header), header, txHash, tx, result, state, validators };
}
