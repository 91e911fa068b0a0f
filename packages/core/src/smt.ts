/**
 * Sparse Merkle tree over 256-bit paths (spec/proofs.md §2): the state root of every block header.
 *
 * The shape is canonical and compact, as in Diem/Aptos Jellyfish binary tries: a subtree holding one
 * leaf is that leaf, placed at the shallowest depth where it is alone, and an internal node always has
 * at least two leaves below it. A key/value set therefore has exactly one tree and one root, whatever
 * order or batching built it. A leaf's bytes hold its whole path and not its depth, so moving a leaf
 * up or down (when a neighbour is deleted or inserted) never rewrites it.
 *
 * Nodes are content-addressed and immutable; this module never writes. Updates return the nodes they
 * create and the caller stores them, so every old root stays provable.
 */
import { compareBytes, equalBytes, toHex } from "./bytes.js";
import type { Value } from "./encoding.js";
import { assert, TallyError } from "./errors.js";
import type { HashFn } from "./merkle.js";

export const SMT_HASH_BYTES = 32;
export const SMT_NODE_BYTES = 65;
/** Paths are 256 bits; two distinct paths differ at bit 255 at the latest, so no leaf is deeper than 256. */
export const SMT_DEPTH_MAX = 256;

const LEAF_TAG = 0x00;
const INTERNAL_TAG = 0x01;
/** The empty subtree's hash. Module-private so no caller can mutate it. */
const EMPTY = new Uint8Array(SMT_HASH_BYTES);

export interface SmtNodeReader {
  /**
   * The node bytes stored under `hash`, or undefined when absent. The bytes must stay unchanged while a
   * call into this module runs (updates keep views into them): a reader must not hand out a buffer it
   * reuses for the next read (such as lmdb-js `getBinaryFast`).
   */
  getNode(hash: Uint8Array): Uint8Array | undefined;
}

export interface SmtUpdate {
  /** H(state key), 32 bytes. */
  readonly path: Uint8Array;
  /** H(value), 32 bytes; null deletes the key. */
  readonly valueHash: Uint8Array | null;
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
  readonly root: Uint8Array;
  /** [hash, node bytes] of every node the new tree has and the old tree did not. */
  readonly newNodes: Array<[Uint8Array, Uint8Array]>;
}

/** The root of the empty tree: 32 zero bytes. */
export function smtEmptyRoot(): Uint8Array {
  return new Uint8Array(SMT_HASH_BYTES);
}

/** path = H(key). */
export function smtPath(hash: HashFn, key: Uint8Array): Uint8Array {
  return hash(key);
}

export function smtLeafNode(path: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const node = new Uint8Array(SMT_NODE_BYTES);
  node[0] = LEAF_TAG;
  node.set(path, 1);
  node.set(valueHash, 1 + SMT_HASH_BYTES);
  return node;
}

export function smtInternalNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const node = new Uint8Array(SMT_NODE_BYTES);
  node[0] = INTERNAL_TAG;
  node.set(left, 1);
  node.set(right, 1 + SMT_HASH_BYTES);
  return node;
}

function isEmptyHash(h: Uint8Array): boolean {
  for (let i = 0; i < SMT_HASH_BYTES; i++) if (h[i] !== 0) return false;
  return true;
}

/** Bit i of a path; bit 0 is the most significant bit of byte 0. */
function bitAt(path: Uint8Array, i: number): number {
  return ((path[i >>> 3] as number) >>> (7 - (i & 7))) & 1;
}

function readNode(reader: SmtNodeReader, h: Uint8Array): Uint8Array {
  const node = reader.getNode(h);
  // Checked before calling assert so the hot path never formats the hex message.
  if (node === undefined) assert(false, `SMT node ${toHex(h)} is missing from the store`);
  if (node.length !== SMT_NODE_BYTES || (node[0] !== LEAF_TAG && node[0] !== INTERNAL_TAG)) {
    assert(false, `SMT node ${toHex(h)} is corrupt`);
  }
  return node;
}

/** A leaf to place while building a subtree; `hash` is set when the leaf already exists in the store. */
interface Item {
  readonly path: Uint8Array;
  readonly valueHash: Uint8Array | null;
  readonly hash: Uint8Array | null;
}

/** A subtree produced by a batch. `leaf` is undefined for untouched subtrees until someone needs to know. */
interface Sub {
  readonly hash: Uint8Array;
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

  constructor(
    private readonly hash: HashFn,
    private readonly reader: SmtNodeReader,
    private readonly updates: readonly Item[],
  ) {}

  private put(node: Uint8Array): Uint8Array {
    const h = this.hash(node);
    this.newNodes.push([h, node]);
    return h;
  }

  private isLeaf(sub: Sub): boolean {
    if (sub.leaf === undefined) sub.leaf = readNode(this.reader, sub.hash)[0] === LEAF_TAG;
    return sub.leaf;
  }

  /** The subtree at `depth` whose hash is `nodeHash`, after updates [lo, hi) (non-empty, all below it). */
  update(nodeHash: Uint8Array, depth: number, lo: number, hi: number): Sub | null {
    if (isEmptyHash(nodeHash)) {
      const inserts: Item[] = [];
      for (let i = lo; i < hi; i++) {
        const u = this.updates[i] as Item;
        if (u.valueHash !== null) inserts.push(u);
      }
      return this.build(depth, inserts, 0, inserts.length);
    }
    const node = readNode(this.reader, nodeHash);
    if (node[0] === LEAF_TAG) return this.updateLeaf(nodeHash, node, depth, lo, hi);

    assert(depth < SMT_DEPTH_MAX, "SMT internal node below depth 255");
    const oldLeft = node.subarray(1, 1 + SMT_HASH_BYTES);
    const oldRight = node.subarray(1 + SMT_HASH_BYTES);
    const mid = splitAt(this.updates, depth, lo, hi);
    const left = mid > lo ? this.update(oldLeft, depth + 1, lo, mid) : untouched(oldLeft);
    const right = hi > mid ? this.update(oldRight, depth + 1, mid, hi) : untouched(oldRight);
    const leftHash = left?.hash ?? EMPTY;
    const rightHash = right?.hash ?? EMPTY;
    // Deletes of absent keys and rewrites of equal values leave the node as it was: no hash, no new node.
    if (equalBytes(leftHash, oldLeft) && equalBytes(rightHash, oldRight)) return { hash: nodeHash, leaf: false };
    if (left === null && right === null) return null;
    // A lone leaf collapses upward; a lone internal node keeps its place under an empty sibling.
    if (left === null && right !== null && this.isLeaf(right)) return right;
    if (right === null && left !== null && this.isLeaf(left)) return left;
    return { hash: this.put(smtInternalNode(leftHash, rightHash)), leaf: false };
  }

  /** The existing leaf and the updates below it are merged into one sorted list and built afresh. */
  private updateLeaf(nodeHash: Uint8Array, node: Uint8Array, depth: number, lo: number, hi: number): Sub | null {
    const leafPath = node.subarray(1, 1 + SMT_HASH_BYTES);
    const leafValue = node.subarray(1 + SMT_HASH_BYTES);
    const existing: Item = { path: leafPath, valueHash: leafValue, hash: nodeHash };
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
          if (u.valueHash !== null) items.push(equalBytes(u.valueHash, leafValue) ? existing : u);
          continue;
        }
      }
      if (u.valueHash !== null) items.push(u);
    }
    if (!placed) items.push(existing);
    return this.build(depth, items, 0, items.length);
  }

  /** A subtree from a sorted list of distinct leaves; no existing nodes below it except the listed leaves. */
  private build(depth: number, items: readonly Item[], lo: number, hi: number): Sub | null {
    if (hi === lo) return null;
    if (hi - lo === 1) {
      const it = items[lo] as Item;
      return { hash: it.hash ?? this.put(smtLeafNode(it.path, it.valueHash as Uint8Array)), leaf: true };
    }
    assert(depth < SMT_DEPTH_MAX, "two SMT leaves with the same path");
    const mid = splitAt(items, depth, lo, hi);
    const left = this.build(depth + 1, items, lo, mid);
    const right = this.build(depth + 1, items, mid, hi);
    return { hash: this.put(smtInternalNode(left?.hash ?? EMPTY, right?.hash ?? EMPTY)), leaf: false };
  }
}

function untouched(h: Uint8Array): Sub | null {
  return isEmptyHash(h) ? null : { hash: h, leaf: undefined };
}

/** Sorted by path; of several updates to one path the last in the input wins (as if applied in order). */
function normaliseUpdates(updates: readonly SmtUpdate[]): Item[] {
  const items: Item[] = updates.map((u) => {
    assert(u.path instanceof Uint8Array && u.path.length === SMT_HASH_BYTES, "SMT update path must be 32 bytes");
    assert(
      u.valueHash === null || (u.valueHash instanceof Uint8Array && u.valueHash.length === SMT_HASH_BYTES),
      "SMT update value hash must be 32 bytes or null",
    );
    return { path: u.path, valueHash: u.valueHash, hash: null };
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
 * node, so a node shared by many updates is rehashed once per batch. Returns the new root and the nodes
 * the new tree has that the old one did not (a node may still already be in the store if an older root
 * contained it; content addressing makes storing it again harmless).
 */
export function applySmtUpdates(hash: HashFn, reader: SmtNodeReader, root: Uint8Array, updates: readonly SmtUpdate[]): SmtUpdateResult {
  assert(root instanceof Uint8Array && root.length === SMT_HASH_BYTES, "SMT root must be 32 bytes");
  const items = normaliseUpdates(updates);
  if (items.length === 0) return { root: new Uint8Array(root), newNodes: [] };
  const batch = new Batch(hash, reader, items);
  const sub = batch.update(root, 0, 0, items.length);
  return { root: sub === null ? smtEmptyRoot() : new Uint8Array(sub.hash), newNodes: batch.newNodes };
}

/**
 * A fresh plain copy of a node's first (0) or second (1) 32-byte field: results must not alias store
 * memory, and Buffer's `slice` would not copy.
 */
function copyHalf(node: Uint8Array, half: 0 | 1): Uint8Array {
  const start = 1 + half * SMT_HASH_BYTES;
  return new Uint8Array(node.subarray(start, start + SMT_HASH_BYTES));
}

/** The descent shared by get and prove: stops at the first leaf or empty subtree on the path. */
function descend(reader: SmtNodeReader, root: Uint8Array, path: Uint8Array, siblings: Uint8Array[] | null): SmtLeaf | null {
  assert(root instanceof Uint8Array && root.length === SMT_HASH_BYTES, "SMT root must be 32 bytes");
  assert(path instanceof Uint8Array && path.length === SMT_HASH_BYTES, "SMT path must be 32 bytes");
  let h = root;
  for (let depth = 0; ; depth++) {
    if (isEmptyHash(h)) return null;
    const node = readNode(reader, h);
    if (node[0] === LEAF_TAG) {
      return { path: copyHalf(node, 0), valueHash: copyHalf(node, 1) };
    }
    assert(depth < SMT_DEPTH_MAX, "SMT internal node below depth 255");
    const right = bitAt(path, depth) === 1;
    siblings?.push(copyHalf(node, right ? 0 : 1));
    h = right ? node.subarray(1 + SMT_HASH_BYTES) : node.subarray(1, 1 + SMT_HASH_BYTES);
  }
}

/** The value hash stored at `path`, or null when absent. `_hash` is unused: reads need no hashing. */
export function smtGet(_hash: HashFn, reader: SmtNodeReader, root: Uint8Array, path: Uint8Array): Uint8Array | null {
  const leaf = descend(reader, root, path, null);
  return leaf !== null && equalBytes(leaf.path, path) ? leaf.valueHash : null;
}

/** Inclusion proof when `path` is present, otherwise a non-inclusion proof (empty position or divergent leaf). */
export function smtProve(_hash: HashFn, reader: SmtNodeReader, root: Uint8Array, path: Uint8Array): SmtProof {
  const siblings: Uint8Array[] = [];
  const leaf = descend(reader, root, path, siblings);
  return { siblings, leaf };
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

function isRecord(value: unknown): value is { readonly [key: string]: Value } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function hasExactKeys(record: { readonly [key: string]: Value }, keys: readonly string[]): boolean {
  const own = Object.keys(record);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(record, k));
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
  if (!isRecord(value) || !hasExactKeys(value, ["depth", "bitmap", "siblings", "leaf"])) {
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
  if (!isRecord(leaf) || !hasExactKeys(leaf, ["path", "valueHash"]) || !isHash(leaf.path) || !isHash(leaf.valueHash)) {
    throw badProof("SMT proof leaf must be null or a map of 32-byte path and valueHash");
  }
  return { siblings: out, leaf: { path: new Uint8Array(leaf.path), valueHash: new Uint8Array(leaf.valueHash) } };
}
