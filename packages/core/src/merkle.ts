/**
 * Binary Merkle tree over a list (spec/proofs.md §1): the RFC 9162 §2.1 / RFC 6962 shape, so the
 * transaction and receipt roots of a block can be checked with any Certificate Transparency verifier.
 * The hash function is a parameter because it is chosen per chain (SHA-256 or SM3).
 */
import { equalBytes } from "./bytes.js";
import { hasExactKeys, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";

/** The chain's hash function; the output is always 32 bytes. */
export type HashFn = (data: Uint8Array) => Uint8Array;

export interface MerkleProof {
  /** Position of the leaf, 0-based. */
  readonly index: number;
  /** Number of leaves in the tree. */
  readonly total: number;
  /** Audit path, from the leaf's sibling up to the root's child (RFC 9162 §2.1.3). */
  readonly siblings: Uint8Array[];
}

export const MERKLE_HASH_BYTES = 32;
/** A safe-integer tree size has at most 53 levels; anything longer cannot be a valid path. */
const MERKLE_PATH_MAX = 64;

export function merkleLeafHash(hash: HashFn, leaf: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + leaf.length);
  buf[0] = 0x00;
  buf.set(leaf, 1);
  return hash(buf);
}

export function merkleNodeHash(hash: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return hash(buf);
}

/**
 * All levels of the tree, built once so that every proof of a block costs only array look-ups.
 * Pairing neighbours level by level and carrying an odd last node up unchanged gives exactly the
 * RFC 6962 tree (split at the largest power of two below n), without recursion.
 */
export class MerkleTree {
  readonly size: number;
  readonly #levels: Uint8Array[][];
  readonly #root: Uint8Array;

  constructor(hash: HashFn, leaves: readonly Uint8Array[]) {
    this.size = leaves.length;
    let level = leaves.map((leaf) => merkleLeafHash(hash, leaf));
    this.#levels = [level];
    while (level.length > 1) {
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) {
        next.push(merkleNodeHash(hash, level[i] as Uint8Array, level[i + 1] as Uint8Array));
      }
      if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
      this.#levels.push(next);
      level = next;
    }
    this.#root = level[0] ?? hash(new Uint8Array(0));
  }

  root(): Uint8Array {
    return new Uint8Array(this.#root);
  }

  /** Throws TallyError NOT_FOUND when there is no leaf at `index`. */
  proof(index: number): MerkleProof {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new TallyError("NOT_FOUND", "no leaf at this index", { index, total: this.size });
    }
    const siblings: Uint8Array[] = [];
    let i = index;
    for (let k = 0; k < this.#levels.length - 1; k++) {
      const level = this.#levels[k] as Uint8Array[];
      // The last node of an odd level has no sibling: it is carried up, so the path skips this level.
      const sibling = i % 2 === 1 ? level[i - 1] : level[i + 1];
      if (sibling !== undefined) siblings.push(new Uint8Array(sibling));
      i = Math.floor(i / 2);
    }
    return { index, total: this.size, siblings };
  }

  proofs(): MerkleProof[] {
    const out: MerkleProof[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.proof(i));
    return out;
  }
}

/** MTH(D[n]); the root of the empty list is H(""). */
export function merkleRoot(hash: HashFn, leaves: readonly Uint8Array[]): Uint8Array {
  return new MerkleTree(hash, leaves).root();
}

export function merkleProof(hash: HashFn, leaves: readonly Uint8Array[], index: number): MerkleProof {
  return new MerkleTree(hash, leaves).proof(index);
}

/** Proofs for every leaf, sharing one build of the tree. */
export function merkleProofs(hash: HashFn, leaves: readonly Uint8Array[]): MerkleProof[] {
  return new MerkleTree(hash, leaves).proofs();
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * RFC 9162 §2.1.3.2. Never throws: a malformed proof (index ≥ total, wrong number of siblings,
 * wrong lengths, non-integer numbers) is simply a proof that does not verify.
 */
export function verifyMerkleProof(hash: HashFn, root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  if (!(root instanceof Uint8Array) || root.length !== MERKLE_HASH_BYTES || !(leaf instanceof Uint8Array)) return false;
  if (typeof proof !== "object" || proof === null || !Array.isArray(proof.siblings)) return false;
  const { index, total, siblings } = proof;
  if (!isNonNegativeSafeInteger(index) || !isNonNegativeSafeInteger(total) || index >= total) return false;
  if (siblings.length > MERKLE_PATH_MAX) return false;
  let fn = index;
  let sn = total - 1;
  let r = merkleLeafHash(hash, leaf);
  for (const p of siblings) {
    if (!(p instanceof Uint8Array) || p.length !== MERKLE_HASH_BYTES) return false;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(hash, p, r);
      // A right-edge node with no right sibling at the lower levels: skip the levels where it was carried up.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = merkleNodeHash(hash, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/** Encoded form (spec/proofs.md §1.4): `{ index, total, siblings: [bytes32, ...] }`. */
export function encodeMerkleProof(proof: MerkleProof): Value {
  return { index: proof.index, total: proof.total, siblings: proof.siblings.map((s) => new Uint8Array(s)) };
}

/** Throws TallyError BAD_PROOF unless `value` has exactly the encoded shape. */
export function decodeMerkleProof(value: Value): MerkleProof {
  if (!isValueMap(value) || !hasExactKeys(value, ["index", "total", "siblings"])) {
    throw new TallyError("BAD_PROOF", "merkle proof must be a map of index, total, siblings");
  }
  const { index, total, siblings } = value;
  if (!isNonNegativeSafeInteger(index) || !isNonNegativeSafeInteger(total) || index >= total) {
    throw new TallyError("BAD_PROOF", "merkle proof index and total must be integers with index < total");
  }
  if (!Array.isArray(siblings) || siblings.length > MERKLE_PATH_MAX) {
    throw new TallyError("BAD_PROOF", "merkle proof siblings must be a list of at most 64 hashes");
  }
  const out: Uint8Array[] = [];
  for (const s of siblings as readonly Value[]) {
    if (!(s instanceof Uint8Array) || s.length !== MERKLE_HASH_BYTES) {
      throw new TallyError("BAD_PROOF", "merkle proof sibling must be 32 bytes");
    }
    out.push(new Uint8Array(s));
  }
  return { index, total, siblings: out };
}
