/**
 * Sparse Merkle tree over 256-bit paths (spec/proofs.md §2): the state root of every block header.
 *
 * The shape is canonical and compact, as in Diem/Aptos Jellyfish binary tries: a subtree holding one
 * leaf is that leaf, placed at the shallowest depth where it is alone, and an internal node always has
 * at least two leaves below it. A key/value set therefore has exactly one tree and one root, whatever
 * order or batching built it. A leaf's bytes hold its whole path and not its depth, so moving a leaf
 * up or down (when a neighbour is deleted or inserted) never rewrites it.
 *
 * Storage (spec/proofs.md §2.4): nodes are stored as immutable records under references that increase
 * in write order (version u64 || sequence u32, as IAVL v1 node keys), not under their hashes, so a
 * B-tree store appends instead of dirtying random pages. A parent record names its children by hash
 * (for the Merkle tree) and by ref (to find them). This module never writes: updates return the records
 * they create and the caller stores them, so every old root stays readable and provable.
 */
import { compareBytes, equalBytes, toHex } from "./bytes.js";
import { hasExactKeys, isValueMap, type Value } from "./encoding.js";
import { assert, TallyError } from "./errors.js";
import type { HashFn } from "./merkle.js";

export const SMT_HASH_BYTES = 32;
/** The hashed part of every record: a node's hash is H(its first 65 bytes). */
export const SMT_NODE_BYTES = 65;
/** version u64 big-endian || sequence u32 big-endian; sequence starts at 1, so 12 zero bytes name no node. */
export const SMT_REF_BYTES = 12;
/** An internal record: the 65 node bytes, then the left and right children's refs. */
export const SMT_INTERNAL_RECORD_BYTES = SMT_NODE_BYTES + 2 * SMT_REF_BYTES;
/** Paths are 256 bits; two distinct paths differ at bit 255 at the latest, so no leaf is deeper than 256. */
export const SMT_DEPTH_MAX = 256;

const LEAF_TAG = 0x00;
const INTERNAL_TAG = 0x01;
const LEFT_HASH = 1;
const RIGHT_HASH = LEFT_HASH + SMT_HASH_BYTES;
const LEFT_REF = SMT_NODE_BYTES;
const RIGHT_REF = LEFT_REF + SMT_REF_BYTES;
const LEAF_VALUE = SMT_NODE_BYTES;
const SEQUENCE_MAX = 0xffff_ffff;
/** The empty subtree's hash. Module-private so no caller can mutate it. */
const EMPTY = new Uint8Array(SMT_HASH_BYTES);

export interface SmtRoot {
  /** The root hash (the state root in block headers); 32 zero bytes for the empty tree. */
  readonly hash: Uint8Array;
  /** The root record's ref; null for the empty tree. */
  readonly ref: Uint8Array | null;
}

export interface SmtNodeReader {
  /**
   * The record stored under `ref`, or undefined when absent. The bytes must stay unchanged while a call
   * into this module runs (updates keep views into them): a reader must not hand out a buffer it reuses
   * for the next read (such as lmdb-js `getBinaryFast`).
   */
  getNode(ref: Uint8Array): Uint8Array | undefined;
}

export interface SmtUpdate {
  /** H(state key), 32 bytes. */
  readonly path: Uint8Array;
  /** H(value), 32 bytes; null deletes the key. */
  readonly valueHash: Uint8Array | null;
  /** The value itself, stored in the leaf record; null iff `valueHash` is null. */
  readonly value: Uint8Array | null;
}

export interface SmtLeaf {
  readonly path: Uint8Array;
  readonly valueHash: Uint8Array;
}

export interface SmtProof {
  /** Siblings from the root downward: siblings[i] is the sibling of the path's node at depth i + 1. */
  readonly siblings: Uint8Array[];
  /** The leaf where the search ended, or null when it ended at an empty subtree. */
  readonly leaf: SmtLeaf | null;
}

export interface SmtUpdateResult {
  readonly root: SmtRoot;
  /**
   * [ref, record] of every record written by this batch, in creation order (children before parents),
   * refs strictly increasing, all with the batch's version.
   */
  readonly newNodes: Array<[Uint8Array, Uint8Array]>;
}

/** The root of the empty tree: hash 32 zero bytes, no ref. */
export function smtEmptyRoot(): SmtRoot {
  return { hash: new Uint8Array(SMT_HASH_BYTES), ref: null };
}

/** The ref `version || sequence` (u64 and u32, big-endian). */
export function smtRef(version: number, sequence: number): Uint8Array {
  assert(Number.isSafeInteger(version) && version >= 0, "SMT version must be a non-negative safe integer");
  assert(Number.isInteger(sequence) && sequence >= 1 && sequence <= SEQUENCE_MAX, "SMT ref sequence must be in 1..2^32-1");
  const ref = new Uint8Array(SMT_REF_BYTES);
  const view = new DataView(ref.buffer);
  view.setUint32(0, Math.floor(version / 0x1_0000_0000));
  view.setUint32(4, version >>> 0);
  view.setUint32(8, sequence);
  return ref;
}

/** path = H(key). */
export function smtPath(hash: HashFn, key: Uint8Array): Uint8Array {
  return hash(key);
}

/** The 65 hashed bytes of a leaf (its record without the value). */
export function smtLeafNode(path: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const node = new Uint8Array(SMT_NODE_BYTES);
  node[0] = LEAF_TAG;
  node.set(path, 1);
  node.set(valueHash, 1 + SMT_HASH_BYTES);
  return node;
}

/** The 65 hashed bytes of an internal node (its record without the children's refs). */
export function smtInternalNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const node = new Uint8Array(SMT_NODE_BYTES);
  node[0] = INTERNAL_TAG;
  node.set(left, 1);
  node.set(right, 1 + SMT_HASH_BYTES);
  return node;
}

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

function isEmptyHash(h: Uint8Array): boolean {
  return isZero(h, 0, SMT_HASH_BYTES);
}

/** Bit i of a path; bit 0 is the most significant bit of byte 0. */
function bitAt(path: Uint8Array, i: number): number {
  return ((path[i >>> 3] as number) >>> (7 - (i & 7))) & 1;
}

/** A child slot of an internal record is consistent iff its hash and its ref are both zero or both not. */
function childConsistent(record: Uint8Array, hashAt: number, refAt: number): boolean {
  return isZero(record, hashAt, hashAt + SMT_HASH_BYTES) === isZero(record, refAt, refAt + SMT_REF_BYTES);
}

/** The record under `ref`, checked for shape (not for hash: the store is trusted, as it was when content-addressed). */
function readRecord(reader: SmtNodeReader, ref: Uint8Array): Uint8Array {
  const record = reader.getNode(ref);
  // Checked before calling assert so the hot path never formats the hex message.
  if (record === undefined) assert(false, `SMT node ${toHex(ref)} is missing from the store`);
  const ok =
    record[0] === LEAF_TAG
      ? record.length >= SMT_NODE_BYTES
      : record[0] === INTERNAL_TAG &&
        record.length === SMT_INTERNAL_RECORD_BYTES &&
        childConsistent(record, LEFT_HASH, LEFT_REF) &&
        childConsistent(record, RIGHT_HASH, RIGHT_REF);
  if (!ok) assert(false, `SMT node ${toHex(ref)} is corrupt`);
  return record;
}

function assertRoot(root: SmtRoot): void {
  assert(typeof root === "object" && root !== null, "SMT root must be an object");
  const { hash, ref } = root;
  assert(hash instanceof Uint8Array && hash.length === SMT_HASH_BYTES, "SMT root hash must be 32 bytes");
  if (ref === null) {
    assert(isEmptyHash(hash), "SMT root without a ref must be the empty tree");
  } else {
    assert(ref instanceof Uint8Array && ref.length === SMT_REF_BYTES, "SMT root ref must be 12 bytes or null");
    assert(!isEmptyHash(hash) && !isZero(ref, 0, SMT_REF_BYTES), "SMT root with a ref must have a non-zero hash and ref");
  }
}

/** A leaf to place while building a subtree; `hash` and `ref` are set when the leaf already exists in the store. */
interface Item {
  readonly path: Uint8Array;
  readonly valueHash: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly hash: Uint8Array | null;
  readonly ref: Uint8Array | null;
}

/** A non-empty subtree produced by a batch. `leaf` is undefined for untouched subtrees until someone needs to know. */
interface Sub {
  readonly hash: Uint8Array;
  readonly ref: Uint8Array;
  leaf: boolean | undefined;
}

/** First index in [lo, hi) whose path has bit `depth` set; the range is sorted and shares `depth` bits. */
function splitAt(items: readonly Item[], depth: number, lo: number, hi: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (bitAt((items[m] as Item).path, depth) === 0) a = m + 1;
    else b = m;
  }
  return a;
}

class Batch {
  readonly newNodes: Array<[Uint8Array, Uint8Array]> = [];
  private sequence = 0;
  /** A ref of this batch's version: each new ref is a copy with the sequence (last four bytes) set. */
  private readonly refBase: Uint8Array;

  constructor(
    private readonly hash: HashFn,
    private readonly reader: SmtNodeReader,
    private readonly updates: readonly Item[],
    version: number,
  ) {
    this.refBase = smtRef(version, 1);
  }

  /** Records a new record under the next ref; returns the sub it forms. */
  private put(record: Uint8Array, leaf: boolean): Sub {
    assert(this.sequence < SEQUENCE_MAX, "SMT batch creates more than 2^32-1 nodes");
    this.sequence++;
    const ref = this.refBase.slice();
    const seq = this.sequence;
    ref[8] = seq >>> 24;
    ref[9] = (seq >>> 16) & 0xff;
    ref[10] = (seq >>> 8) & 0xff;
    ref[11] = seq & 0xff;
    this.newNodes.push([ref, record]);
    return { hash: this.hash(record.subarray(0, SMT_NODE_BYTES)), ref, leaf };
  }

  private putLeaf(it: Item): Sub {
    const value = it.value as Uint8Array;
    const record = new Uint8Array(SMT_NODE_BYTES + value.length);
    record[0] = LEAF_TAG;
    record.set(it.path, 1);
    record.set(it.valueHash as Uint8Array, 1 + SMT_HASH_BYTES);
    record.set(value, LEAF_VALUE);
    return this.put(record, true);
  }

  private putInternal(left: Sub | null, right: Sub | null): Sub {
    const record = new Uint8Array(SMT_INTERNAL_RECORD_BYTES);
    record[0] = INTERNAL_TAG;
    if (left !== null) {
      record.set(left.hash, LEFT_HASH);
      record.set(left.ref, LEFT_REF);
    }
    if (right !== null) {
      record.set(right.hash, RIGHT_HASH);
      record.set(right.ref, RIGHT_REF);
    }
    return this.put(record, false);
  }

  private isLeaf(sub: Sub): boolean {
    if (sub.leaf === undefined) sub.leaf = readRecord(this.reader, sub.ref)[0] === LEAF_TAG;
    return sub.leaf;
  }

  /** The subtree at `depth` with this hash and ref (null: empty), after updates [lo, hi) (non-empty, all below it). */
  update(nodeHash: Uint8Array, nodeRef: Uint8Array | null, depth: number, lo: number, hi: number): Sub | null {
    if (nodeRef === null) {
      const inserts: Item[] = [];
      for (let i = lo; i < hi; i++) {
        const u = this.updates[i] as Item;
        if (u.valueHash !== null) inserts.push(u);
      }
      return this.build(depth, inserts, 0, inserts.length);
    }
    const record = readRecord(this.reader, nodeRef);
    if (record[0] === LEAF_TAG) return this.updateLeaf(nodeHash, nodeRef, record, depth, lo, hi);

    assert(depth < SMT_DEPTH_MAX, "SMT internal node below depth 255");
    const oldLeft = untouched(record, LEFT_HASH, LEFT_REF);
    const oldRight = untouched(record, RIGHT_HASH, RIGHT_REF);
    const mid = splitAt(this.updates, depth, lo, hi);
    const left = mid > lo ? this.update(record.subarray(LEFT_HASH, RIGHT_HASH), oldLeft?.ref ?? null, depth + 1, lo, mid) : oldLeft;
    const right = hi > mid ? this.update(record.subarray(RIGHT_HASH, LEFT_REF), oldRight?.ref ?? null, depth + 1, mid, hi) : oldRight;
    // Deletes of absent keys and rewrites of equal values leave the node as it was: no hash, no new record.
    // (A batch only makes records for subtrees whose hash changes, so equal hashes mean equal refs too.)
    if (sameHash(left, oldLeft) && sameHash(right, oldRight)) return { hash: nodeHash, ref: nodeRef, leaf: false };
    if (left === null && right === null) return null;
    // A lone leaf collapses upward, keeping its record; a lone internal node keeps its place under an empty sibling.
    if (left === null && right !== null && this.isLeaf(right)) return right;
    if (right === null && left !== null && this.isLeaf(left)) return left;
    return this.putInternal(left, right);
  }

  /** The existing leaf and the updates below it are merged into one sorted list and built afresh. */
  private updateLeaf(nodeHash: Uint8Array, nodeRef: Uint8Array, record: Uint8Array, depth: number, lo: number, hi: number): Sub | null {
    const leafPath = record.subarray(1, 1 + SMT_HASH_BYTES);
    const leafValueHash = record.subarray(1 + SMT_HASH_BYTES, SMT_NODE_BYTES);
    const existing: Item = { path: leafPath, valueHash: leafValueHash, value: null, hash: nodeHash, ref: nodeRef };
    const items: Item[] = [];
    let placed = false;
    for (let i = lo; i < hi; i++) {
      const u = this.updates[i] as Item;
      if (!placed) {
        const c = compareBytes(u.path, leafPath);
        if (c > 0) {
          items.push(existing);
          placed = true;
        } else if (c === 0) {
          placed = true;
          if (u.valueHash !== null) items.push(equalBytes(u.valueHash, leafValueHash) ? existing : u);
          continue;
        }
      }
      if (u.valueHash !== null) items.push(u);
    }
    if (!placed) items.push(existing);
    return this.build(depth, items, 0, items.length);
  }

  /** A subtree from a sorted list of distinct leaves; no existing records below it except the listed leaves. */
  private build(depth: number, items: readonly Item[], lo: number, hi: number): Sub | null {
    if (hi === lo) return null;
    if (hi - lo === 1) {
      const it = items[lo] as Item;
      // An existing leaf keeps its record and ref wherever it lands: its bytes carry no depth.
      return it.ref !== null ? { hash: it.hash as Uint8Array, ref: it.ref, leaf: true } : this.putLeaf(it);
    }
    assert(depth < SMT_DEPTH_MAX, "two SMT leaves with the same path");
    const mid = splitAt(items, depth, lo, hi);
    const left = this.build(depth + 1, items, lo, mid);
    const right = this.build(depth + 1, items, mid, hi);
    return this.putInternal(left, right);
  }
}

/** The child in one slot of an internal record as a sub (views into the record), or null when empty. */
function untouched(record: Uint8Array, hashAt: number, refAt: number): Sub | null {
  if (isZero(record, hashAt, hashAt + SMT_HASH_BYTES)) return null;
  return { hash: record.subarray(hashAt, hashAt + SMT_HASH_BYTES), ref: record.subarray(refAt, refAt + SMT_REF_BYTES), leaf: undefined };
}

function sameHash(a: Sub | null, b: Sub | null): boolean {
  return a === null || b === null ? a === b : equalBytes(a.hash, b.hash);
}

/** Sorted by path; of several updates to one path the last in the input wins (as if applied in order). */
function normaliseUpdates(updates: readonly SmtUpdate[]): Item[] {
  const items: Item[] = updates.map((u) => {
    assert(u.path instanceof Uint8Array && u.path.length === SMT_HASH_BYTES, "SMT update path must be 32 bytes");
    assert(
      u.valueHash === null || (u.valueHash instanceof Uint8Array && u.valueHash.length === SMT_HASH_BYTES),
      "SMT update value hash must be 32 bytes or null",
    );
    assert(
      u.valueHash === null ? u.value === null : u.value instanceof Uint8Array,
      "SMT update value must be bytes when its value hash is set and null when it is null",
    );
    return { path: u.path, valueHash: u.valueHash, value: u.value, hash: null, ref: null };
  });
  // Array.prototype.sort is stable, so equal paths keep their input order and the last one is kept.
  items.sort((a, b) => compareBytes(a.path, b.path));
  const out: Item[] = [];
  for (const it of items) {
    const prev = out[out.length - 1];
    if (prev !== undefined && equalBytes(prev.path, it.path)) out[out.length - 1] = it;
    else out.push(it);
  }
  return out;
}

/**
 * Applies a batch of updates in one descent: the updates are sorted by path and split at each internal
 * node, so a node shared by many updates is rehashed once per batch. Returns the new root and the
 * records the batch created, under refs `smtRef(version, 1)`, `smtRef(version, 2)`, … in creation order
 * (children before parents). Subtrees the batch does not change, and leaves that only move, keep their
 * refs. The result depends only on (root, updates, version), so retrying a batch gives the same refs.
 *
 * Values are not hashed here: the caller guarantees `valueHash = H(value)` for every update (it has
 * already hashed them), and a new leaf record stores `value` verbatim.
 */
export function applySmtUpdates(
  hash: HashFn,
  reader: SmtNodeReader,
  root: SmtRoot,
  updates: readonly SmtUpdate[],
  version: number,
): SmtUpdateResult {
  assertRoot(root);
  assert(Number.isSafeInteger(version) && version >= 0, "SMT version must be a non-negative safe integer");
  const items = normaliseUpdates(updates);
  const copy = (h: Uint8Array, ref: Uint8Array | null): SmtRoot =>
    ref === null ? smtEmptyRoot() : { hash: new Uint8Array(h), ref: new Uint8Array(ref) };
  if (items.length === 0) return { root: copy(root.hash, root.ref), newNodes: [] };
  const batch = new Batch(hash, reader, items, version);
  const sub = batch.update(root.hash, root.ref, 0, 0, items.length);
  return { root: sub === null ? smtEmptyRoot() : copy(sub.hash, sub.ref), newNodes: batch.newNodes };
}

/** A fresh plain copy (results must not alias store memory, and Buffer's `slice` would not copy). */
function copyRange(record: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(record.subarray(start, end));
}

/** The descent shared by get and prove: stops at the first leaf (returning its record) or empty subtree. */
function descend(reader: SmtNodeReader, root: SmtRoot, path: Uint8Array, siblings: Uint8Array[] | null): Uint8Array | null {
  assertRoot(root);
  assert(path instanceof Uint8Array && path.length === SMT_HASH_BYTES, "SMT path must be 32 bytes");
  let ref = root.ref;
  for (let depth = 0; ref !== null; depth++) {
    const record = readRecord(reader, ref);
    if (record[0] === LEAF_TAG) return record;
    assert(depth < SMT_DEPTH_MAX, "SMT internal node below depth 255");
    const right = bitAt(path, depth) === 1;
    siblings?.push(right ? copyRange(record, LEFT_HASH, RIGHT_HASH) : copyRange(record, RIGHT_HASH, LEFT_REF));
    const refAt = right ? RIGHT_REF : LEFT_REF;
    ref = isZero(record, refAt, refAt + SMT_REF_BYTES) ? null : record.subarray(refAt, refAt + SMT_REF_BYTES);
  }
  return null;
}

function leafHasPath(record: Uint8Array | null, path: Uint8Array): record is Uint8Array {
  return record !== null && equalBytes(record.subarray(1, 1 + SMT_HASH_BYTES), path);
}

/** The value hash and value stored at `path` (fresh copies), or null when absent. */
export function smtGet(reader: SmtNodeReader, root: SmtRoot, path: Uint8Array): { valueHash: Uint8Array; value: Uint8Array } | null {
  const record = descend(reader, root, path, null);
  if (!leafHasPath(record, path)) return null;
  return { valueHash: copyRange(record, 1 + SMT_HASH_BYTES, SMT_NODE_BYTES), value: copyRange(record, LEAF_VALUE, record.length) };
}

/**
 * Inclusion proof when `path` is present, otherwise a non-inclusion proof (empty position or divergent
 * leaf). `value` is the proven value on inclusion, else null.
 */
export function smtProve(reader: SmtNodeReader, root: SmtRoot, path: Uint8Array): { proof: SmtProof; value: Uint8Array | null } {
  const siblings: Uint8Array[] = [];
  const record = descend(reader, root, path, siblings);
  const leaf: SmtLeaf | null =
    record === null
      ? null
      : { path: copyRange(record, 1, 1 + SMT_HASH_BYTES), valueHash: copyRange(record, 1 + SMT_HASH_BYTES, SMT_NODE_BYTES) };
  const value = leafHasPath(record, path) ? copyRange(record, LEAF_VALUE, record.length) : null;
  return { proof: { siblings, leaf }, value };
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === SMT_HASH_BYTES;
}

function commonPrefixAtLeast(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) if (bitAt(a, i) !== bitAt(b, i)) return false;
  return true;
}

/**
 * Verifies a proof against a path and value hash directly (for callers that hold H(value), not the value).
 * valueHash non-null proves path ↦ valueHash; null proves the path absent. Never throws on malformed proofs.
 */
export function verifySmtPathProof(
  hash: HashFn,
  root: Uint8Array,
  path: Uint8Array,
  valueHash: Uint8Array | null,
  proof: SmtProof,
): boolean {
  if (!isHash(root) || !isHash(path) || (valueHash !== null && !isHash(valueHash))) return false;
  if (typeof proof !== "object" || proof === null || !Array.isArray(proof.siblings)) return false;
  const { siblings, leaf } = proof;
  const depth = siblings.length;
  if (depth > SMT_DEPTH_MAX) return false;
  if (!siblings.every(isHash)) return false;
  if (leaf !== null && (typeof leaf !== "object" || !isHash(leaf.path) || !isHash(leaf.valueHash))) return false;

  let cur: Uint8Array;
  if (valueHash !== null) {
    if (leaf === null || !equalBytes(leaf.path, path) || !equalBytes(leaf.valueHash, valueHash)) return false;
    cur = hash(smtLeafNode(leaf.path, leaf.valueHash));
  } else if (leaf === null) {
    cur = EMPTY;
  } else {
    // The leaf occupying the position proves absence only if it sits on our path and is someone else.
    if (equalBytes(leaf.path, path) || !commonPrefixAtLeast(leaf.path, path, depth)) return false;
    cur = hash(smtLeafNode(leaf.path, leaf.valueHash));
  }
  for (let i = depth - 1; i >= 0; i--) {
    const sibling = siblings[i] as Uint8Array;
    cur = hash(bitAt(path, i) === 1 ? smtInternalNode(sibling, cur) : smtInternalNode(cur, sibling));
  }
  return equalBytes(cur, root);
}

/** value non-null proves key ↦ value; null proves key absent. Never throws on malformed proofs. */
export function verifySmtProof(hash: HashFn, root: Uint8Array, key: Uint8Array, value: Uint8Array | null, proof: SmtProof): boolean {
  if (!(key instanceof Uint8Array) || (value !== null && !(value instanceof Uint8Array))) return false;
  return verifySmtPathProof(hash, root, hash(key), value === null ? null : hash(value), proof);
}

/**
 * Encoded form (spec/proofs.md §2.5): `{ depth, bitmap, siblings, leaf }`. Most siblings deep in a sparse
 * tree are empty, so only non-empty ones are listed and `bitmap` (⌈depth/8⌉ bytes, bit i MSB-first) marks
 * which depths they belong to.
 */
export function encodeSmtProof(proof: SmtProof): Value {
  const depth = proof.siblings.length;
  const bitmap = new Uint8Array(Math.ceil(depth / 8));
  const present: Uint8Array[] = [];
  proof.siblings.forEach((s, i) => {
    if (isEmptyHash(s)) return;
    bitmap[i >>> 3] = (bitmap[i >>> 3] as number) | (0x80 >>> (i & 7));
    present.push(new Uint8Array(s));
  });
  const leaf: Value =
    proof.leaf === null ? null : { path: new Uint8Array(proof.leaf.path), valueHash: new Uint8Array(proof.leaf.valueHash) };
  return { depth, bitmap, siblings: present, leaf };
}

function badProof(message: string): TallyError {
  return new TallyError("BAD_PROOF", message);
}

/** Throws TallyError BAD_PROOF unless `value` is exactly the canonical encoded shape. */
export function decodeSmtProof(value: Value): SmtProof {
  if (!isValueMap(value) || !hasExactKeys(value, ["depth", "bitmap", "siblings", "leaf"])) {
    throw badProof("SMT proof must be a map of depth, bitmap, siblings, leaf");
  }
  const { depth, bitmap, siblings, leaf } = value;
  if (typeof depth !== "number" || !Number.isSafeInteger(depth) || depth < 0 || depth > SMT_DEPTH_MAX) {
    throw badProof("SMT proof depth must be an integer in 0..256");
  }
  if (!(bitmap instanceof Uint8Array) || bitmap.length !== Math.ceil(depth / 8)) {
    throw badProof("SMT proof bitmap must be ceil(depth / 8) bytes");
  }
  if (depth % 8 !== 0 && ((bitmap[bitmap.length - 1] as number) & (0xff >>> (depth % 8))) !== 0) {
    throw badProof("SMT proof bitmap has bits set beyond depth");
  }
  if (!Array.isArray(siblings)) throw badProof("SMT proof siblings must be a list");
  const listed = siblings as readonly Value[];
  const out: Uint8Array[] = [];
  let next = 0;
  for (let i = 0; i < depth; i++) {
    if ((((bitmap[i >>> 3] as number) >>> (7 - (i & 7))) & 1) === 0) {
      out.push(new Uint8Array(SMT_HASH_BYTES));
      continue;
    }
    const s = listed[next++];
    // An all-zero listed sibling would give a second encoding of the same proof.
    if (!isHash(s) || isEmptyHash(s)) throw badProof("SMT proof sibling must be 32 bytes, not all zero");
    out.push(new Uint8Array(s));
  }
  if (next !== listed.length) throw badProof("SMT proof lists more siblings than its bitmap marks");
  if (leaf === null) return { siblings: out, leaf: null };
  if (!isValueMap(leaf) || !hasExactKeys(leaf, ["path", "valueHash"]) || !isHash(leaf.path) || !isHash(leaf.valueHash)) {
    throw badProof("SMT proof leaf must be null or a map of 32-byte path and valueHash");
  }
  return { siblings: out, leaf: { path: new Uint8Array(leaf.path), valueHash: new Uint8Array(leaf.valueHash) } };
}
