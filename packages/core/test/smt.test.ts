import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { compareBytes, concatBytes, equalBytes, toHex, utf8 } from "../src/bytes.js";
import { decode, encode } from "../src/encoding.js";
import { AssertionFailure, isTallyError } from "../src/errors.js";
import type { HashFn } from "../src/merkle.js";
import {
  applySmtUpdates,
  decodeSmtProof,
  encodeSmtProof,
  SMT_REF_BYTES,
  type SmtNodeReader,
  type SmtProof,
  type SmtRoot,
  type SmtUpdate,
  type SmtUpdateResult,
  smtEmptyRoot,
  smtGet,
  smtProve,
  smtRef,
  verifySmtPathProof,
  verifySmtProof,
} from "../src/smt.js";

const sha256: HashFn = (d) => new Uint8Array(createHash("sha256").update(d).digest());
const ZERO: Uint8Array = new Uint8Array(32);
const ZERO_REF: Uint8Array = new Uint8Array(SMT_REF_BYTES);
const EMPTY_ROOT: SmtRoot = { hash: ZERO, ref: null };
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** Records keyed by the hex of their ref, as the state layer keys them by ref bytes. */
class MemoryStore implements SmtNodeReader {
  readonly nodes = new Map<string, Uint8Array>();
  /** The version the next `apply` uses: each batch gets its own, as blocks do. */
  nextVersion = 1;
  getNode(ref: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(Buffer.from(ref.buffer, ref.byteOffset, ref.byteLength).toString("hex"));
  }
  has(ref: Uint8Array): boolean {
    return this.getNode(ref) !== undefined;
  }
  putAll(nodes: ReadonlyArray<[Uint8Array, Uint8Array]>): void {
    for (const [ref, record] of nodes) {
      assert.ok(!this.has(ref), "a ref is never written twice");
      this.nodes.set(toHex(ref), record);
    }
  }
}

type Entry = readonly [key: Uint8Array, value: Uint8Array | null];

const toUpdate = ([key, value]: Entry): SmtUpdate => ({
  path: sha256(key),
  valueHash: value === null ? null : sha256(value),
  value,
});

const refVersion = (ref: Uint8Array): number => {
  const view = new DataView(ref.buffer, ref.byteOffset, ref.byteLength);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
};
const refSequence = (ref: Uint8Array): number => new DataView(ref.buffer, ref.byteOffset, ref.byteLength).getUint32(8);
const isLeafRecord = (record: Uint8Array): boolean => record[0] === 0;

/**
 * Checks what every batch must satisfy, then stores its records: refs are (version, 1), (version, 2), …
 * in order; every new leaf holds the value its (last) update gave; every ref a new internal record names
 * is older than it and exists in the store once the batch is stored.
 */
function checkAndStore(store: MemoryStore, result: SmtUpdateResult, version: number, updates: readonly SmtUpdate[]): void {
  const lastValue = new Map<string, Uint8Array | null>();
  for (const u of updates) lastValue.set(toHex(u.path), u.value);
  result.newNodes.forEach(([ref, record], i) => {
    assert.equal(ref.length, SMT_REF_BYTES);
    assert.equal(refVersion(ref), version, "every new ref carries the batch's version");
    assert.equal(refSequence(ref), i + 1, "sequences run 1, 2, … in creation order");
    assert.deepEqual(ref, smtRef(version, i + 1));
    if (i > 0) assert.ok(compareBytes((result.newNodes[i - 1] as [Uint8Array, Uint8Array])[0], ref) < 0, "refs strictly increase");
    assert.ok(!store.has(ref), "a new ref is not in the store yet");
    if (isLeafRecord(record)) {
      const want = lastValue.get(toHex(record.subarray(1, 33)));
      assert.ok(want !== undefined && want !== null, "a new leaf comes from an update that sets its path");
      assert.deepEqual(record.subarray(65), want, "the leaf record holds the update's value");
      assert.deepEqual(record.subarray(33, 65), sha256(want));
    } else {
      assert.equal(record.length, 89);
      for (const at of [65, 77]) {
        const child = record.subarray(at, at + SMT_REF_BYTES);
        if (!isZero(child)) assert.ok(compareBytes(child, ref) < 0, "children are written before their parent");
      }
    }
  });
  store.putAll(result.newNodes);
  for (const [, record] of result.newNodes) {
    if (isLeafRecord(record)) continue;
    for (const at of [65, 77]) {
      const child = record.subarray(at, at + SMT_REF_BYTES);
      if (!isZero(child)) assert.ok(store.has(child), "every ref a new record names is stored");
    }
  }
  if (result.root.ref === null) assert.deepEqual(result.root, EMPTY_ROOT);
  else assert.ok(store.has(result.root.ref), "the new root is stored");
}

/** Applies a batch under the store's next version and stores its new records, as the state layer will. */
function applyFull(store: MemoryStore, root: SmtRoot, entries: readonly Entry[]): SmtUpdateResult {
  const version = store.nextVersion++;
  const updates = entries.map(toUpdate);
  const result = applySmtUpdates(sha256, store, root, updates, version);
  checkAndStore(store, result, version, updates);
  return result;
}

function apply(store: MemoryStore, root: SmtRoot, entries: readonly Entry[]): SmtRoot {
  return applyFull(store, root, entries).root;
}

const bit = (path: Uint8Array, i: number): number => ((path[i >> 3] as number) >> (7 - (i & 7))) & 1;
const leafNode = (path: Uint8Array, vh: Uint8Array): Uint8Array => concatBytes(new Uint8Array([0]), path, vh);
const internalNode = (l: Uint8Array, r: Uint8Array): Uint8Array => concatBytes(new Uint8Array([1]), l, r);

/** The canonical tree by its definition, over the sorted set of (path, valueHash) pairs. */
function referenceRoot(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>, depth = 0): Uint8Array {
  if (pairs.length === 0) return ZERO;
  if (pairs.length === 1) {
    const [path, vh] = pairs[0] as readonly [Uint8Array, Uint8Array];
    return sha256(leafNode(path, vh));
  }
  const left = pairs.filter(([p]) => bit(p, depth) === 0);
  const right = pairs.filter(([p]) => bit(p, depth) === 1);
  return sha256(internalNode(referenceRoot(left, depth + 1), referenceRoot(right, depth + 1)));
}

function referenceRootOfMap(model: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const pairs = [...model.entries()].map(([k, v]) => [sha256(utf8(k)), sha256(v)] as const);
  pairs.sort((a, b) => compareBytes(a[0], b[0]));
  return referenceRoot(pairs);
}

function flipByte(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] as number) ^ 0x01;
  return out;
}

interface WalkedLeaf {
  readonly ref: string;
  readonly valueHash: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Walks the whole tree from `root`: every reachable record is stored, its first 65 bytes hash to the
 * hash its parent (or the root) holds, empty children have zero hash and zero ref and no others do, and
 * every leaf lies on its own path. Returns the leaves by path hex.
 */
function walk(store: MemoryStore, root: SmtRoot): Map<string, WalkedLeaf> {
  const leaves = new Map<string, WalkedLeaf>();
  const visit = (hash: Uint8Array, ref: Uint8Array, prefix: number[]): void => {
    const record = store.getNode(ref);
    assert.ok(record !== undefined, "reachable record stored");
    assert.deepEqual(sha256(record.subarray(0, 65)), hash, "record's first 65 bytes hash to the hash its parent holds");
    if (isLeafRecord(record)) {
      const path = record.subarray(1, 33);
      prefix.forEach((b, i) => {
        assert.equal(bit(path, i), b, "leaf lies on its path");
      });
      leaves.set(toHex(path), { ref: toHex(ref), valueHash: record.slice(33, 65), value: record.slice(65) });
      return;
    }
    assert.equal(record[0], 1);
    assert.equal(record.length, 89);
    for (const side of [0, 1]) {
      const h = record.subarray(1 + 32 * side, 33 + 32 * side);
      const r = record.subarray(65 + 12 * side, 77 + 12 * side);
      assert.equal(isZero(h), isZero(r), "a child is empty in hash and ref alike");
      if (!isZero(h)) visit(h, r, [...prefix, side]);
    }
  };
  if (root.ref === null) assert.deepEqual(root.hash, ZERO);
  else visit(root.hash, root.ref, []);
  return leaves;
}

/** The hex refs of every record reachable from `root`. */
function reachableRefs(store: MemoryStore, root: SmtRoot): Set<string> {
  const out = new Set<string>();
  const visit = (ref: Uint8Array): void => {
    out.add(toHex(ref));
    const record = store.getNode(ref) as Uint8Array;
    if (isLeafRecord(record)) return;
    for (const at of [65, 77]) {
      const child = record.subarray(at, at + SMT_REF_BYTES);
      if (!isZero(child)) visit(child);
    }
  };
  if (root.ref !== null) visit(root.ref);
  return out;
}

const keyArb = fc.string({ minLength: 0, maxLength: 12 });
const valueArb = fc.uint8Array({ minLength: 0, maxLength: 16 });

test("empty tree: root is 32 zero bytes with no ref, everything is absent and provably so", () => {
  const store = new MemoryStore();
  assert.deepEqual(smtEmptyRoot(), EMPTY_ROOT);
  assert.deepEqual(apply(store, EMPTY_ROOT, []), EMPTY_ROOT);
  const path = sha256(utf8("k"));
  assert.equal(smtGet(store, EMPTY_ROOT, path), null);
  const { proof, value } = smtProve(store, EMPTY_ROOT, path);
  assert.deepEqual(proof, { siblings: [], leaf: null });
  assert.equal(value, null);
  assert.ok(verifySmtProof(sha256, ZERO, utf8("k"), null, proof));
  assert.ok(!verifySmtProof(sha256, ZERO, utf8("k"), utf8("v"), proof));
  // Deleting an absent key from the empty tree is a no-op.
  const noop = applyFull(store, EMPTY_ROOT, [[utf8("k"), null]]);
  assert.deepEqual(noop.root, EMPTY_ROOT);
  assert.deepEqual(noop.newNodes, []);
  assert.equal(store.nodes.size, 0);
});

test("refs: version u64 || sequence u32, big-endian; sequence 0 and out-of-range versions are refused", () => {
  assert.deepEqual(smtRef(0x01_0203_0405, 0x0607_0809), new Uint8Array([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  assert.deepEqual(smtRef(0, 1), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
  assert.deepEqual(smtRef(Number.MAX_SAFE_INTEGER, 0xffff_ffff), new Uint8Array([0, 0x1f, ...new Array(10).fill(0xff)]));
  assert.ok(compareBytes(smtRef(1, 0xffff_ffff), smtRef(2, 1)) < 0, "refs order by version, then sequence");
  for (const [v, q] of [
    [0, 0],
    [-1, 1],
    [1.5, 1],
    [2 ** 53, 1],
    [1, 2 ** 32],
  ] as const) {
    assert.throws(() => smtRef(v, q), AssertionFailure);
  }
  const path = sha256(utf8("k"));
  for (const version of [-1, 0.5, Number.NaN, 2 ** 53]) {
    assert.throws(
      () => applySmtUpdates(sha256, new MemoryStore(), EMPTY_ROOT, [toUpdate([utf8("k"), utf8("v")])], version),
      AssertionFailure,
    );
  }
  // Version 0 is allowed (a genesis batch), and a large version round-trips into every ref.
  const result = applySmtUpdates(sha256, new MemoryStore(), EMPTY_ROOT, [{ path, valueHash: sha256(utf8("v")), value: utf8("v") }], 0);
  assert.deepEqual(result.root.ref, smtRef(0, 1));
  const big = applySmtUpdates(
    sha256,
    new MemoryStore(),
    EMPTY_ROOT,
    [toUpdate([utf8("a"), utf8("1")]), toUpdate([utf8("b"), utf8("2")])],
    2 ** 40 + 3,
  );
  assert.deepEqual(
    big.newNodes.map(([ref]) => ref),
    [1, 2, 3].map((q) => smtRef(2 ** 40 + 3, q)),
  );
  assert.deepEqual(big.root.ref, smtRef(2 ** 40 + 3, 3), "the root is created last");
});

test("hand-built roots: one leaf is the root; leaves split at their first differing bit", () => {
  const store = new MemoryStore();
  const k1 = utf8("alpha");
  const v1 = utf8("1");
  const p1 = sha256(k1);
  const root1 = apply(store, EMPTY_ROOT, [[k1, v1]]);
  assert.deepEqual(root1.hash, sha256(leafNode(p1, sha256(v1))));
  assert.deepEqual(store.getNode(root1.ref as Uint8Array), concatBytes(leafNode(p1, sha256(v1)), v1), "leaf record");
  // Find keys whose paths first differ at bit 0 and at bit 3 to pin the compact shape.
  const findKey = (pred: (p: Uint8Array) => boolean): Uint8Array => {
    for (let i = 0; ; i++) {
      const k = utf8(`k${i}`);
      if (pred(sha256(k))) return k;
    }
  };
  const firstDiff = (a: Uint8Array, b: Uint8Array): number => {
    let i = 0;
    while (bit(a, i) === bit(b, i)) i++;
    return i;
  };
  const k2 = findKey((p) => firstDiff(p, p1) === 0);
  const p2 = sha256(k2);
  const l1 = sha256(leafNode(p1, sha256(v1)));
  const l2 = sha256(leafNode(p2, sha256(utf8("2"))));
  const grown = applyFull(store, root1, [[k2, utf8("2")]]);
  const root2 = grown.root;
  assert.deepEqual(root2.hash, bit(p1, 0) === 0 ? sha256(internalNode(l1, l2)) : sha256(internalNode(l2, l1)));
  // One new leaf and one new internal record naming the old leaf by its old ref.
  assert.equal(grown.newNodes.length, 2);
  const rootRecord = store.getNode(root2.ref as Uint8Array) as Uint8Array;
  const [leftRef, rightRef] = [rootRecord.subarray(65, 77), rootRecord.subarray(77, 89)];
  const newLeafRef = (grown.newNodes[0] as [Uint8Array, Uint8Array])[0];
  assert.deepEqual(bit(p1, 0) === 0 ? [leftRef, rightRef] : [rightRef, leftRef], [root1.ref, newLeafRef]);

  const k3 = findKey((p) => firstDiff(p, p1) === 3);
  const p3 = sha256(k3);
  const l3 = sha256(leafNode(p3, sha256(utf8("3"))));
  const root3 = apply(new MemoryStore(), EMPTY_ROOT, [
    [k1, v1],
    [k3, utf8("3")],
  ]);
  let expected = bit(p1, 3) === 0 ? sha256(internalNode(l1, l3)) : sha256(internalNode(l3, l1));
  for (let d = 2; d >= 0; d--) {
    expected = bit(p1, d) === 0 ? sha256(internalNode(expected, ZERO)) : sha256(internalNode(ZERO, expected));
  }
  assert.deepEqual(root3.hash, expected);
  const { proof } = smtProve(store, root2, p1);
  assert.equal(proof.siblings.length, 1);
});

test("property: root is independent of insertion order and batching, and equals the reference", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(keyArb, valueArb), { maxLength: 80, selector: ([k]) => k }),
      fc.func(fc.boolean()),
      fc.nat(),
      (pairs, split, seed) => {
        const entries: Entry[] = pairs.map(([k, v]) => [utf8(k), v]);
        const model = new Map(pairs);
        const expected = referenceRootOfMap(model);

        const oneBatch = apply(new MemoryStore(), EMPTY_ROOT, entries);
        assert.deepEqual(oneBatch.hash, expected);
        assert.equal(oneBatch.ref === null, pairs.length === 0);

        const s1 = new MemoryStore();
        let oneByOne = EMPTY_ROOT;
        for (const e of entries) oneByOne = apply(s1, oneByOne, [e]);
        assert.deepEqual(oneByOne.hash, expected);

        // Shuffled, then cut into batches wherever `split` says.
        const shuffled = [...entries];
        let r = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          r = (r * 1103515245 + 12345) % 2 ** 31;
          const j = r % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as Entry, shuffled[i] as Entry];
        }
        const s2 = new MemoryStore();
        let batched = EMPTY_ROOT;
        let batch: Entry[] = [];
        shuffled.forEach((e, i) => {
          batch.push(e);
          if (split(i)) {
            batched = apply(s2, batched, batch);
            batch = [];
          }
        });
        batched = apply(s2, batched, batch);
        assert.deepEqual(batched.hash, expected);
        const leaves = walk(s2, batched);
        assert.equal(leaves.size, pairs.length);
        for (const [k, v] of pairs) assert.deepEqual(leaves.get(toHex(sha256(utf8(k))))?.value, v, "exact value stored");
      },
    ),
    { numRuns: 150 },
  );
});

test("property: random sets and deletes in random batches track a model map; unchanged leaves keep their refs", () => {
  const opArb = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(valueArb, { nil: null }));
  fc.assert(
    fc.property(fc.array(fc.array(opArb, { maxLength: 25 }), { maxLength: 12 }), (batches) => {
      const store = new MemoryStore();
      const model = new Map<string, Uint8Array>();
      let root = EMPTY_ROOT;
      let before = walk(store, root);
      for (const ops of batches) {
        const result = applyFull(
          store,
          root,
          ops.map(([k, v]) => [utf8(`key${k}`), v]),
        );
        root = result.root;
        for (const [k, v] of ops) {
          if (v === null) model.delete(`key${k}`);
          else model.set(`key${k}`, v);
        }
        assert.deepEqual(root.hash, referenceRootOfMap(model));
        const after = walk(store, root);
        assert.equal(after.size, model.size);
        // A leaf whose value did not change keeps its ref wherever it moved; every other leaf is new.
        let fresh = 0;
        for (const [path, leaf] of after) {
          const old = before.get(path);
          if (old !== undefined && equalBytes(old.valueHash, leaf.valueHash))
            assert.equal(leaf.ref, old.ref, "unchanged leaf keeps its ref");
          else fresh++;
        }
        assert.equal(result.newNodes.filter(([, rec]) => isLeafRecord(rec)).length, fresh, "only changed leaves are written");
        for (let k = 0; k <= 40; k++) {
          const v = model.get(`key${k}`);
          const path = sha256(utf8(`key${k}`));
          const got = smtGet(store, root, path);
          assert.deepEqual(got, v === undefined ? null : { valueHash: sha256(v), value: v });
          const proved = smtProve(store, root, path);
          assert.deepEqual(proved.value, v ?? null);
          assert.ok(verifySmtProof(sha256, root.hash, utf8(`key${k}`), v ?? null, proved.proof));
        }
        before = after;
      }
    }),
    { numRuns: 100 },
  );
});

test("property: old roots stay readable and provable after later batches (history)", () => {
  const opArb = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.option(valueArb, { nil: null }));
  fc.assert(
    fc.property(fc.array(fc.array(opArb, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 10 }), (batches) => {
      const store = new MemoryStore();
      const model = new Map<string, Uint8Array>();
      const history: Array<{ root: SmtRoot; model: Map<string, Uint8Array> }> = [{ root: EMPTY_ROOT, model: new Map() }];
      let root = EMPTY_ROOT;
      for (const ops of batches) {
        root = apply(
          store,
          root,
          ops.map(([k, v]) => [utf8(`key${k}`), v]),
        );
        for (const [k, v] of ops) {
          if (v === null) model.delete(`key${k}`);
          else model.set(`key${k}`, v);
        }
        history.push({ root, model: new Map(model) });
      }
      for (const { root: old, model: then } of history) {
        assert.deepEqual(old.hash, referenceRootOfMap(then));
        assert.equal(walk(store, old).size, then.size);
        for (let k = 0; k <= 30; k++) {
          const key = utf8(`key${k}`);
          const v = then.get(`key${k}`) ?? null;
          assert.deepEqual(smtGet(store, old, sha256(key)), v === null ? null : { valueHash: sha256(v), value: v });
          const { proof, value } = smtProve(store, old, sha256(key));
          assert.deepEqual(value, v);
          assert.ok(verifySmtProof(sha256, old.hash, key, v, proof));
        }
      }
    }),
    { numRuns: 100 },
  );
});

test("property: insert then delete restores the previous root; deleting everything empties the tree", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(keyArb, valueArb), { maxLength: 60, selector: ([k]) => k }),
      fc.uniqueArray(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 20, selector: ([k]) => k }),
      (base, extra) => {
        const baseKeys = new Set(base.map(([k]) => k));
        const fresh = extra.filter(([k]) => !baseKeys.has(k));
        const store = new MemoryStore();
        const before = apply(
          store,
          EMPTY_ROOT,
          base.map(([k, v]) => [utf8(k), v]),
        );
        const grown = apply(
          store,
          before,
          fresh.map(([k, v]) => [utf8(k), v]),
        );
        const shrunk = applyFull(
          store,
          grown,
          fresh.map(([k]) => [utf8(k), null]),
        );
        assert.deepEqual(shrunk.root.hash, before.hash);
        assert.ok(!shrunk.newNodes.some(([, rec]) => isLeafRecord(rec)), "deletes write no leaf");
        // One key at a time too, in reverse order.
        let back = grown;
        for (const [k] of [...fresh].reverse()) back = apply(store, back, [[utf8(k), null]]);
        assert.deepEqual(back.hash, before.hash);
        const emptied = apply(
          store,
          grown,
          [...base, ...fresh].map(([k]) => [utf8(k), null]),
        );
        assert.deepEqual(emptied, EMPTY_ROOT);
      },
    ),
    { numRuns: 150 },
  );
});

test("new records are only for changed subtrees; rewriting equal values or deleting absent keys creates nothing", () => {
  const store = new MemoryStore();
  const entries: Entry[] = Array.from({ length: 500 }, (_, i) => [utf8(`k${i}`), utf8(`v${i}`)]);
  const root = apply(store, EMPTY_ROOT, entries);
  assert.equal(store.nodes.size, reachableRefs(store, root).size);
  const more = Array.from({ length: 50 }, (_, i): Entry => [utf8(`new${i}`), utf8(`x${i}`)]);
  const result = applyFull(store, root, more);
  assert.equal(result.newNodes.filter(([, rec]) => isLeafRecord(rec)).length, 50);
  // Exactly the new tree's records that the old tree lacked: the store now holds both trees, sharing the rest.
  const oldLeaves = walk(store, root);
  const newLeaves = walk(store, result.root);
  assert.equal(newLeaves.size, 550);
  for (const [path, leaf] of oldLeaves) assert.equal(newLeaves.get(path)?.ref, leaf.ref);
  const oldRefs = reachableRefs(store, root);
  const lacked = [...reachableRefs(store, result.root)].filter((ref) => !oldRefs.has(ref));
  assert.deepEqual(lacked.sort(), result.newNodes.map(([ref]) => toHex(ref)).sort(), "new records = new tree minus old tree");

  const same = applyFull(store, root, entries.slice(0, 100));
  assert.deepEqual(same.root, root);
  assert.deepEqual(same.newNodes, []);
  const absent = applyFull(store, root, [[utf8("nope"), null]]);
  assert.deepEqual(absent.root, root);
  assert.deepEqual(absent.newNodes, []);
  const mixed = applyFull(store, result.root, [...entries.slice(0, 10), [utf8("nope"), null]]);
  assert.deepEqual(mixed.root, result.root);
  assert.deepEqual(mixed.newNodes, []);
  // Old roots stay readable: nothing is deleted.
  assert.deepEqual(smtGet(store, root, sha256(utf8("k7"))), { valueHash: sha256(utf8("v7")), value: utf8("v7") });
  assert.equal(smtGet(store, root, sha256(utf8("new7"))), null);
  assert.deepEqual(smtGet(store, result.root, sha256(utf8("new7")))?.value, utf8("x7"));
});

test("duplicate paths in one batch: the last update wins, and its value is the one stored", () => {
  const store = new MemoryStore();
  const k = utf8("dup");
  const a = apply(store, EMPTY_ROOT, [
    [k, utf8("1")],
    [utf8("other"), utf8("o")],
    [k, utf8("2")],
  ]);
  const b = apply(new MemoryStore(), EMPTY_ROOT, [
    [utf8("other"), utf8("o")],
    [k, utf8("2")],
  ]);
  assert.deepEqual(a.hash, b.hash);
  assert.deepEqual(smtGet(store, a, sha256(k))?.value, utf8("2"));
  const c = apply(store, a, [
    [k, utf8("3")],
    [k, null],
  ]);
  assert.deepEqual(c.hash, apply(new MemoryStore(), EMPTY_ROOT, [[utf8("other"), utf8("o")]]).hash);
  const d = apply(store, c, [
    [k, null],
    [k, utf8("4")],
  ]);
  assert.deepEqual(smtGet(store, d, sha256(k))?.value, utf8("4"));
});

/** A tree with enough keys that absent keys end both at empty positions and at other leaves. */
function bigTree(n: number): { store: MemoryStore; root: SmtRoot; entries: Entry[] } {
  const store = new MemoryStore();
  const entries: Entry[] = Array.from({ length: n }, (_, i) => [utf8(`key-${i}`), utf8(`value-${i}`)]);
  return { store, root: apply(store, EMPTY_ROOT, entries), entries };
}

test("inclusion proofs verify for every key; non-inclusion proofs for absent keys, both kinds", () => {
  const { store, root, entries } = bigTree(300);
  for (const [key, value] of entries) {
    const v = value as Uint8Array;
    const { proof, value: proved } = smtProve(store, root, sha256(key));
    assert.deepEqual(proved, v, "the proven value is returned with the proof");
    assert.ok(proof.leaf !== null);
    assert.ok(verifySmtProof(sha256, root.hash, key, v, proof));
    assert.ok(verifySmtPathProof(sha256, root.hash, sha256(key), sha256(v), proof));
    assert.ok(!verifySmtProof(sha256, root.hash, key, null, proof), "inclusion proof is no proof of absence");
    assert.ok(!verifySmtProof(sha256, root.hash, key, utf8("wrong"), proof));
  }
  let empty = 0;
  let divergent = 0;
  for (let i = 0; i < 400; i++) {
    const key = utf8(`absent-${i}`);
    const { proof, value } = smtProve(store, root, sha256(key));
    assert.equal(value, null, "no value for an absent key, even when the proof holds another leaf");
    if (proof.leaf === null) empty++;
    else divergent++;
    assert.ok(verifySmtProof(sha256, root.hash, key, null, proof));
    assert.ok(!verifySmtProof(sha256, root.hash, key, utf8("anything"), proof));
    // The same proof says nothing about another absent key unless it shares the position: check one that doesn't.
    if (proof.leaf !== null) {
      const holder = entries.find(([k]) => compareBytes(sha256(k), proof.leaf?.path as Uint8Array) === 0);
      assert.ok(holder !== undefined);
      assert.ok(!verifySmtProof(sha256, root.hash, holder[0], null, proof), "cannot prove the holder absent");
      assert.ok(verifySmtProof(sha256, root.hash, holder[0], holder[1], proof), "it is the holder's inclusion proof");
    }
  }
  assert.ok(empty > 0 && divergent > 0, `both kinds occur (empty ${empty}, divergent ${divergent})`);
});

test("any single-byte change in a proof, key or value fails; a proof fails against another root", () => {
  const { store, root: rootRef, entries } = bigTree(200);
  const root = rootRef.hash;
  const cases: Array<{ key: Uint8Array; value: Uint8Array | null; proof: SmtProof }> = [];
  for (const [key, value] of entries.slice(0, 10)) {
    cases.push({ key, value, proof: smtProve(store, rootRef, sha256(key)).proof });
  }
  for (let i = 0; cases.length < 30; i++) {
    const key = utf8(`missing-${i}`);
    cases.push({ key, value: null, proof: smtProve(store, rootRef, sha256(key)).proof });
  }
  const other = apply(store, rootRef, [[entries[0]?.[0] as Uint8Array, utf8("changed")]]).hash;
  for (const { key, value, proof } of cases) {
    assert.ok(verifySmtProof(sha256, root, key, value, proof));
    assert.ok(!verifySmtProof(sha256, other, key, value, proof), "other root");
    for (let s = 0; s < proof.siblings.length; s++) {
      for (let at = 0; at < 32; at++) {
        const siblings = proof.siblings.map((x, i) => (i === s ? flipByte(x, at) : x));
        assert.ok(!verifySmtProof(sha256, root, key, value, { ...proof, siblings }));
      }
    }
    if (proof.leaf !== null) {
      const leaf = proof.leaf;
      for (let at = 0; at < 32; at++) {
        const p1 = { ...proof, leaf: { path: flipByte(leaf.path, at), valueHash: leaf.valueHash } };
        const p2 = { ...proof, leaf: { path: leaf.path, valueHash: flipByte(leaf.valueHash, at) } };
        assert.ok(!verifySmtProof(sha256, root, key, value, p1));
        assert.ok(!verifySmtProof(sha256, root, key, value, p2));
      }
    }
    for (let at = 0; at < key.length; at++) {
      // A changed key may land on a path the same non-inclusion proof also covers; the hash decides.
      const k2 = flipByte(key, at);
      if (value !== null) assert.ok(!verifySmtProof(sha256, root, k2, value, proof));
    }
    if (value !== null) {
      for (let at = 0; at < value.length; at++) {
        assert.ok(!verifySmtProof(sha256, root, key, flipByte(value, at), proof));
      }
      assert.ok(!verifySmtProof(sha256, root, key, concatBytes(value, new Uint8Array([0])), proof));
    }
    for (let at = 0; at < 32; at++) assert.ok(!verifySmtProof(sha256, flipByte(root, at), key, value, proof));
    // Siblings dropped, added, or swapped for empties.
    assert.ok(!verifySmtProof(sha256, root, key, value, { ...proof, siblings: [...proof.siblings, ZERO] }));
    if (proof.siblings.length > 0) {
      assert.ok(!verifySmtProof(sha256, root, key, value, { ...proof, siblings: proof.siblings.slice(1) }));
      assert.ok(!verifySmtProof(sha256, root, key, value, { ...proof, siblings: proof.siblings.slice(0, -1) }));
    }
  }
  // A non-inclusion proof against another root: make the other root differ at the proven position.
  const missing = cases.find((c) => c.value === null) as (typeof cases)[number];
  const withIt = apply(store, rootRef, [[missing.key, utf8("now present")]]).hash;
  assert.ok(!verifySmtProof(sha256, withIt, missing.key, null, missing.proof));
  const changed = apply(store, rootRef, [[entries[0]?.[0] as Uint8Array, null]]).hash;
  const inclusion = cases[1] as (typeof cases)[number];
  assert.ok(!verifySmtProof(sha256, changed, inclusion.key, inclusion.value, inclusion.proof));
});

test("verifier never throws on malformed proofs", () => {
  const { store, root, entries } = bigTree(20);
  const [key, value] = entries[0] as Entry;
  const good = smtProve(store, root, sha256(key)).proof;
  const h = new Uint8Array(32).fill(7);
  const junk: unknown[] = [
    null,
    {},
    { siblings: null, leaf: null },
    { siblings: [h.subarray(0, 31)], leaf: null },
    { siblings: [h, "x"], leaf: null },
    { siblings: Array.from({ length: 257 }, () => h), leaf: null },
    { siblings: [], leaf: { path: h } },
    { siblings: [], leaf: { path: h.subarray(1), valueHash: h } },
    { siblings: [], leaf: "leaf" },
    { ...good, leaf: null },
  ];
  for (const proof of junk) {
    assert.equal(verifySmtProof(sha256, root.hash, key, value, proof as SmtProof), false);
    assert.equal(verifySmtProof(sha256, root.hash, key, null, proof as SmtProof), false);
  }
  assert.equal(verifySmtProof(sha256, root.hash.subarray(1), key, value, good), false);
  assert.equal(verifySmtPathProof(sha256, root.hash, new Uint8Array(31), null, good), false);
});

test("paths that differ only in the last bit sit at depth 256; the leaf left alone moves up keeping its ref", () => {
  const store = new MemoryStore();
  const a = new Uint8Array(32).fill(0xab);
  const b = a.slice();
  b[31] = (b[31] as number) ^ 0x01;
  const c = a.slice();
  c[0] = 0x00;
  const v = utf8("v");
  const vh = sha256(v);
  const updates: SmtUpdate[] = [a, b, c].map((path) => ({ path, valueHash: vh, value: v }));
  const result = applySmtUpdates(sha256, store, EMPTY_ROOT, updates, 1);
  checkAndStore(store, result, 1, updates);
  assert.equal(result.newNodes.length, 3 + 256, "three leaves and 256 internal nodes");
  const pairs = [a, b, c].map((p) => [p, vh] as const).sort((x, y) => compareBytes(x[0], y[0]));
  assert.deepEqual(result.root.hash, referenceRoot(pairs));
  const { proof } = smtProve(store, result.root, b);
  assert.equal(proof.siblings.length, 256);
  assert.ok(verifySmtPathProof(sha256, result.root.hash, b, vh, proof));
  assert.ok(!verifySmtPathProof(sha256, result.root.hash, a, vh, proof));
  const encoded = encode(encodeSmtProof(proof));
  assert.deepEqual(decodeSmtProof(decode(encoded)), proof);
  const refOfA = walk(store, result.root).get(toHex(a))?.ref;
  // Deleting one of the pair collapses the other all the way back up to depth 1, without rewriting it:
  // the only new record is the root.
  const del: SmtUpdate[] = [{ path: b, valueHash: null, value: null }];
  const after = applySmtUpdates(sha256, store, result.root, del, 2);
  checkAndStore(store, after, 2, del);
  assert.equal(after.newNodes.length, 1);
  assert.ok(!isLeafRecord((after.newNodes[0] as [Uint8Array, Uint8Array])[1]));
  assert.equal(smtProve(store, after.root, a).proof.siblings.length, 1);
  assert.equal(walk(store, after.root).get(toHex(a))?.ref, refOfA, "the moved leaf keeps its ref");
  assert.deepEqual(after.root.hash, referenceRoot(pairs.filter(([p]) => p !== b)));
  // Inserting b again pushes a back down to depth 256, still under the same ref.
  const again = applyFull(store, after.root, []);
  assert.deepEqual(again.newNodes, []);
  const back = applySmtUpdates(sha256, store, after.root, [updates[1] as SmtUpdate], 3);
  checkAndStore(store, back, 3, [updates[1] as SmtUpdate]);
  assert.deepEqual(back.root.hash, result.root.hash);
  assert.equal(back.newNodes.filter(([, rec]) => isLeafRecord(rec)).length, 1, "only b's leaf is written");
  assert.equal(walk(store, back.root).get(toHex(a))?.ref, refOfA);
});

test("a missing or corrupt record is an AssertionFailure; bad update and root shapes are assertions too", () => {
  const { store, root, entries } = bigTree(50);
  const path = sha256((entries[3] as Entry)[0]);
  const rootRef = root.ref as Uint8Array;
  const without = (drop: Uint8Array, replace?: Uint8Array): MemoryStore => {
    const s = new MemoryStore();
    for (const [k, v] of store.nodes) if (k !== toHex(drop)) s.nodes.set(k, v);
    if (replace !== undefined) s.nodes.set(toHex(drop), replace);
    return s;
  };
  const rootRecord = store.getNode(rootRef) as Uint8Array;
  const broken: MemoryStore[] = [
    without(rootRef),
    without(rootRef, rootRecord.subarray(0, 88)),
    without(rootRef, concatBytes(rootRecord, new Uint8Array(1))),
    without(rootRef, concatBytes(new Uint8Array([2]), rootRecord.subarray(1))),
    without(rootRef, concatBytes(rootRecord.subarray(0, 65), ZERO_REF, ZERO_REF)),
    without(rootRef, new Uint8Array(0)),
  ];
  // A leaf record shorter than 65 bytes.
  const leafRef = smtRef(1, 1);
  assert.ok(isLeafRecord(store.getNode(leafRef) as Uint8Array));
  broken.push(without(leafRef, (store.getNode(leafRef) as Uint8Array).subarray(0, 64)));
  for (const b of broken) {
    assert.throws(() => {
      for (const [k] of entries) smtGet(b, root, sha256(k));
    }, AssertionFailure);
    assert.throws(() => {
      for (const [k] of entries) smtProve(b, root, sha256(k));
    }, AssertionFailure);
    assert.throws(
      () =>
        applySmtUpdates(
          sha256,
          b,
          root,
          entries.map(([k]) => toUpdate([k, null])),
          99,
        ),
      AssertionFailure,
    );
  }
  const vh = sha256(utf8("v"));
  const badUpdates: unknown[] = [
    { path: path.subarray(1), valueHash: null, value: null },
    { path, valueHash: new Uint8Array(3), value: utf8("v") },
    { path, valueHash: vh, value: null },
    { path, valueHash: null, value: utf8("v") },
    { path, valueHash: vh },
    { path, valueHash: vh, value: "v" },
  ];
  for (const u of badUpdates) {
    assert.throws(() => applySmtUpdates(sha256, store, root, [u as SmtUpdate], 99), AssertionFailure, JSON.stringify(u));
  }
  const badRoots: unknown[] = [
    { hash: ZERO, ref: rootRef },
    { hash: root.hash, ref: null },
    { hash: root.hash, ref: ZERO_REF },
    { hash: root.hash, ref: rootRef.subarray(1) },
    { hash: root.hash.subarray(1), ref: rootRef },
    ZERO,
    null,
  ];
  for (const r of badRoots) {
    assert.throws(() => applySmtUpdates(sha256, store, r as SmtRoot, [], 99), AssertionFailure);
    assert.throws(() => smtGet(store, r as SmtRoot, path), AssertionFailure);
    assert.throws(() => smtProve(store, r as SmtRoot, path), AssertionFailure);
  }
  assert.throws(() => smtGet(store, root, path.subarray(1)), AssertionFailure);
});

test("encoded proofs round-trip through canonical CBOR; empty siblings are compressed; malformed shapes throw", () => {
  const { store, root, entries } = bigTree(1000);
  let totalBytes = 0;
  for (const [key, value] of entries.slice(0, 50)) {
    const { proof } = smtProve(store, root, sha256(key));
    const bytes = encode(encodeSmtProof(proof));
    totalBytes += bytes.length;
    const back = decodeSmtProof(decode(bytes));
    assert.deepEqual(back, proof);
    assert.ok(verifySmtProof(sha256, root.hash, key, value, back));
  }
  assert.ok(totalBytes / 50 < 32 * 20, "a 1,000-key proof is a few hundred bytes");
  const absent = smtProve(store, root, sha256(utf8("absent"))).proof;
  assert.deepEqual(decodeSmtProof(decode(encode(encodeSmtProof(absent)))), absent);
  const empty = { siblings: [ZERO, ZERO, ZERO], leaf: null };
  assert.deepEqual(encodeSmtProof(empty), { depth: 3, bitmap: new Uint8Array([0]), siblings: [], leaf: null });
  assert.deepEqual(decodeSmtProof(encodeSmtProof(empty)), empty);

  const h = new Uint8Array(32).fill(9);
  const bad: unknown[] = [
    null,
    [],
    { depth: 0, bitmap: new Uint8Array(0), siblings: [] },
    { depth: 0, bitmap: new Uint8Array(0), siblings: [], leaf: null, extra: 1 },
    { depth: -1, bitmap: new Uint8Array(0), siblings: [], leaf: null },
    { depth: 257, bitmap: new Uint8Array(33), siblings: [], leaf: null },
    { depth: 1, bitmap: new Uint8Array(0), siblings: [], leaf: null },
    { depth: 1, bitmap: new Uint8Array([0x80]), siblings: [], leaf: null },
    { depth: 1, bitmap: new Uint8Array([0x80]), siblings: [h, h], leaf: null },
    { depth: 1, bitmap: new Uint8Array([0x40]), siblings: [h], leaf: null },
    { depth: 1, bitmap: new Uint8Array([0x80]), siblings: [ZERO], leaf: null },
    { depth: 1, bitmap: new Uint8Array([0x80]), siblings: [h.subarray(1)], leaf: null },
    { depth: 0, bitmap: new Uint8Array(0), siblings: "", leaf: null },
    { depth: 0, bitmap: new Uint8Array(0), siblings: [], leaf: { path: h } },
    { depth: 0, bitmap: new Uint8Array(0), siblings: [], leaf: { path: h, valueHash: h.subarray(2) } },
    { depth: 0, bitmap: new Uint8Array(0), siblings: [], leaf: { path: h, valueHash: h, x: null } },
    { depth: 0, bitmap: new Uint8Array(0), siblings: [], leaf: [h, h] },
  ];
  for (const value of bad) {
    assert.throws(
      () => decodeSmtProof(value as never),
      (err) => isTallyError(err) && err.code === "BAD_PROOF",
      JSON.stringify(value),
    );
  }
});

test("results are plain copies even when the reader hands out Buffers", () => {
  const { store, root, entries } = bigTree(30);
  const bufferReader: SmtNodeReader = {
    getNode: (ref) => {
      const record = store.getNode(ref);
      return record === undefined ? undefined : Buffer.from(record);
    },
  };
  const [key, value] = entries[4] as Entry;
  const { proof, value: proved } = smtProve(bufferReader, root, sha256(key));
  for (const b of [...proof.siblings, proof.leaf?.path, proof.leaf?.valueHash, proved]) {
    assert.equal(b?.constructor, Uint8Array);
  }
  const got = smtGet(bufferReader, root, sha256(key));
  assert.equal(got?.valueHash.constructor, Uint8Array);
  assert.equal(got?.value.constructor, Uint8Array);
  assert.ok(verifySmtProof(sha256, root.hash, key, value, decodeSmtProof(decode(encode(encodeSmtProof(proof))))));
  const result = applySmtUpdates(sha256, bufferReader, root, [toUpdate([key, null])], 99);
  assert.equal(result.root.hash.constructor, Uint8Array);
  assert.equal(result.root.ref?.constructor, Uint8Array);
  for (const [ref] of result.newNodes) assert.equal(ref.constructor, Uint8Array);
  // Mutating returned values must not reach the store.
  proof.siblings[0]?.fill(0);
  got?.value.fill(0);
  proved?.fill(0);
  const again = smtProve(store, root, sha256(key));
  assert.deepEqual(again.value, value);
  assert.ok(verifySmtProof(sha256, root.hash, key, value, again.proof));
  // The returned root does not alias the input root either.
  const same = applySmtUpdates(sha256, store, root, [], 99);
  assert.notEqual(same.root.hash, root.hash);
  assert.notEqual(same.root.ref, root.ref);
  assert.deepEqual(same.root, root);
});
