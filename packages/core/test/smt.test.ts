import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { compareBytes, concatBytes, toHex, utf8 } from "../src/bytes.js";
import { decode, encode } from "../src/encoding.js";
import { AssertionFailure, isTallyError } from "../src/errors.js";
import type { HashFn } from "../src/merkle.js";
import {
  applySmtUpdates,
  decodeSmtProof,
  encodeSmtProof,
  type SmtNodeReader,
  type SmtProof,
  type SmtUpdate,
  smtEmptyRoot,
  smtGet,
  smtProve,
  verifySmtPathProof,
  verifySmtProof,
} from "../src/smt.js";

const sha256: HashFn = (d) => new Uint8Array(createHash("sha256").update(d).digest());
const ZERO: Uint8Array = new Uint8Array(32);

class MemoryStore implements SmtNodeReader {
  readonly nodes = new Map<string, Uint8Array>();
  getNode(hash: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("hex"));
  }
  has(hash: Uint8Array): boolean {
    return this.getNode(hash) !== undefined;
  }
  putAll(nodes: ReadonlyArray<[Uint8Array, Uint8Array]>): void {
    for (const [h, bytes] of nodes) this.nodes.set(toHex(h), bytes);
  }
}

type Entry = readonly [key: Uint8Array, value: Uint8Array | null];

const toUpdate = ([key, value]: Entry): SmtUpdate => ({
  path: sha256(key),
  valueHash: value === null ? null : sha256(value),
});

/** Applies a batch and stores its new nodes, as the state layer will. */
function apply(store: MemoryStore, root: Uint8Array, entries: readonly Entry[]): Uint8Array {
  const result = applySmtUpdates(sha256, store, root, entries.map(toUpdate));
  for (const [h, bytes] of result.newNodes) assert.deepEqual(h, sha256(bytes), "new node hash is H(bytes)");
  store.putAll(result.newNodes);
  return result.root;
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

/** Every node reachable from root is in the store (no node a tree needs was left out of newNodes). */
function assertComplete(store: MemoryStore, root: Uint8Array): number {
  let leaves = 0;
  const walk = (h: Uint8Array): void => {
    if (compareBytes(h, ZERO) === 0) return;
    const node = store.getNode(h);
    assert.ok(node !== undefined, "reachable node stored");
    if (node[0] === 0) {
      leaves++;
      return;
    }
    walk(node.subarray(1, 33));
    walk(node.subarray(33));
  };
  walk(root);
  return leaves;
}

const keyArb = fc.string({ minLength: 0, maxLength: 12 });
const valueArb = fc.uint8Array({ minLength: 0, maxLength: 16 });

test("empty tree: root is 32 zero bytes, everything is absent and provably so", () => {
  const store = new MemoryStore();
  assert.deepEqual(smtEmptyRoot(), ZERO);
  assert.deepEqual(apply(store, ZERO, []), ZERO);
  const path = sha256(utf8("k"));
  assert.equal(smtGet(sha256, store, ZERO, path), null);
  const proof = smtProve(sha256, store, ZERO, path);
  assert.deepEqual(proof, { siblings: [], leaf: null });
  assert.ok(verifySmtProof(sha256, ZERO, utf8("k"), null, proof));
  assert.ok(!verifySmtProof(sha256, ZERO, utf8("k"), utf8("v"), proof));
  // Deleting an absent key from the empty tree is a no-op.
  assert.deepEqual(apply(store, ZERO, [[utf8("k"), null]]), ZERO);
});

test("hand-built roots: one leaf is the root; leaves split at their first differing bit", () => {
  const store = new MemoryStore();
  const k1 = utf8("alpha");
  const v1 = utf8("1");
  const p1 = sha256(k1);
  const root1 = apply(store, ZERO, [[k1, v1]]);
  assert.deepEqual(root1, sha256(leafNode(p1, sha256(v1))));
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
  const root2 = apply(store, root1, [[k2, utf8("2")]]);
  assert.deepEqual(root2, bit(p1, 0) === 0 ? sha256(internalNode(l1, l2)) : sha256(internalNode(l2, l1)));

  const k3 = findKey((p) => firstDiff(p, p1) === 3);
  const p3 = sha256(k3);
  const l3 = sha256(leafNode(p3, sha256(utf8("3"))));
  const root3 = apply(new MemoryStore(), ZERO, [
    [k1, v1],
    [k3, utf8("3")],
  ]);
  let expected = bit(p1, 3) === 0 ? sha256(internalNode(l1, l3)) : sha256(internalNode(l3, l1));
  for (let d = 2; d >= 0; d--) {
    expected = bit(p1, d) === 0 ? sha256(internalNode(expected, ZERO)) : sha256(internalNode(ZERO, expected));
  }
  assert.deepEqual(root3, expected);
  const proof = smtProve(sha256, store, root2, p1);
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

        const oneBatch = apply(new MemoryStore(), ZERO, entries);
        assert.deepEqual(oneBatch, expected);

        const s1 = new MemoryStore();
        let oneByOne = ZERO;
        for (const e of entries) oneByOne = apply(s1, oneByOne, [e]);
        assert.deepEqual(oneByOne, expected);

        // Shuffled, then cut into batches wherever `split` says.
        const shuffled = [...entries];
        let r = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          r = (r * 1103515245 + 12345) % 2 ** 31;
          const j = r % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as Entry, shuffled[i] as Entry];
        }
        const s2 = new MemoryStore();
        let batched = ZERO;
        let batch: Entry[] = [];
        shuffled.forEach((e, i) => {
          batch.push(e);
          if (split(i)) {
            batched = apply(s2, batched, batch);
            batch = [];
          }
        });
        batched = apply(s2, batched, batch);
        assert.deepEqual(batched, expected);
        assert.equal(assertComplete(s2, batched), pairs.length);
      },
    ),
    { numRuns: 150 },
  );
});

test("property: random sets and deletes in random batches track a model map", () => {
  const opArb = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(valueArb, { nil: null }));
  fc.assert(
    fc.property(fc.array(fc.array(opArb, { maxLength: 25 }), { maxLength: 12 }), (batches) => {
      const store = new MemoryStore();
      const model = new Map<string, Uint8Array>();
      let root = ZERO;
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
        assert.deepEqual(root, referenceRootOfMap(model));
        assert.equal(assertComplete(store, root), model.size);
        for (let k = 0; k <= 40; k++) {
          const v = model.get(`key${k}`);
          const got = smtGet(sha256, store, root, sha256(utf8(`key${k}`)));
          assert.deepEqual(got, v === undefined ? null : sha256(v));
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
          ZERO,
          base.map(([k, v]) => [utf8(k), v]),
        );
        const grown = apply(
          store,
          before,
          fresh.map(([k, v]) => [utf8(k), v]),
        );
        const restored = apply(
          store,
          grown,
          fresh.map(([k]) => [utf8(k), null]),
        );
        assert.deepEqual(restored, before);
        // One key at a time too, in reverse order.
        let back = grown;
        for (const [k] of [...fresh].reverse()) back = apply(store, back, [[utf8(k), null]]);
        assert.deepEqual(back, before);
        const emptied = apply(
          store,
          grown,
          [...base, ...fresh].map(([k]) => [utf8(k), null]),
        );
        assert.deepEqual(emptied, ZERO);
      },
    ),
    { numRuns: 150 },
  );
});

test("new nodes are exactly what the old tree lacked; rewriting equal values creates nothing", () => {
  const store = new MemoryStore();
  const entries: Entry[] = Array.from({ length: 500 }, (_, i) => [utf8(`k${i}`), utf8(`v${i}`)]);
  const root = apply(store, ZERO, entries);
  const more = Array.from({ length: 50 }, (_, i): Entry => [utf8(`new${i}`), utf8(`x${i}`)]);
  const result = applySmtUpdates(sha256, store, root, more.map(toUpdate));
  const seen = new Set<string>();
  for (const [h] of result.newNodes) {
    assert.ok(!store.has(h), "only nodes the store lacks");
    assert.ok(!seen.has(toHex(h)), "no duplicates");
    seen.add(toHex(h));
  }
  store.putAll(result.newNodes);
  assertComplete(store, result.root);

  const same = applySmtUpdates(sha256, store, root, entries.slice(0, 100).map(toUpdate));
  assert.deepEqual(same.root, root);
  assert.deepEqual(same.newNodes, []);
  const absent = applySmtUpdates(sha256, store, root, [[utf8("nope"), null] as Entry].map(toUpdate));
  assert.deepEqual(absent.root, root);
  assert.deepEqual(absent.newNodes, []);
  // Old roots stay readable: nothing is deleted.
  assert.deepEqual(smtGet(sha256, store, root, sha256(utf8("k7"))), sha256(utf8("v7")));
  assert.equal(smtGet(sha256, store, root, sha256(utf8("new7"))), null);
  assert.deepEqual(smtGet(sha256, store, result.root, sha256(utf8("new7"))), sha256(utf8("x7")));
});

test("duplicate paths in one batch: the last update wins", () => {
  const store = new MemoryStore();
  const k = utf8("dup");
  const a = apply(store, ZERO, [
    [k, utf8("1")],
    [utf8("other"), utf8("o")],
    [k, utf8("2")],
  ]);
  const b = apply(new MemoryStore(), ZERO, [
    [utf8("other"), utf8("o")],
    [k, utf8("2")],
  ]);
  assert.deepEqual(a, b);
  const c = apply(store, a, [
    [k, utf8("3")],
    [k, null],
  ]);
  assert.deepEqual(c, apply(new MemoryStore(), ZERO, [[utf8("other"), utf8("o")]]));
});

/** A tree with enough keys that absent keys end both at empty positions and at other leaves. */
function bigTree(n: number): { store: MemoryStore; root: Uint8Array; entries: Entry[] } {
  const store = new MemoryStore();
  const entries: Entry[] = Array.from({ length: n }, (_, i) => [utf8(`key-${i}`), utf8(`value-${i}`)]);
  return { store, root: apply(store, ZERO, entries), entries };
}

test("inclusion proofs verify for every key; non-inclusion proofs for absent keys, both kinds", () => {
  const { store, root, entries } = bigTree(300);
  for (const [key, value] of entries) {
    const v = value as Uint8Array;
    const proof = smtProve(sha256, store, root, sha256(key));
    assert.ok(proof.leaf !== null);
    assert.ok(verifySmtProof(sha256, root, key, v, proof));
    assert.ok(verifySmtPathProof(sha256, root, sha256(key), sha256(v), proof));
    assert.ok(!verifySmtProof(sha256, root, key, null, proof), "inclusion proof is no proof of absence");
    assert.ok(!verifySmtProof(sha256, root, key, utf8("wrong"), proof));
  }
  let empty = 0;
  let divergent = 0;
  for (let i = 0; i < 400; i++) {
    const key = utf8(`absent-${i}`);
    const proof = smtProve(sha256, store, root, sha256(key));
    if (proof.leaf === null) empty++;
    else divergent++;
    assert.ok(verifySmtProof(sha256, root, key, null, proof));
    assert.ok(!verifySmtProof(sha256, root, key, utf8("anything"), proof));
    // The same proof says nothing about another absent key unless it shares the position: check one that doesn't.
    if (proof.leaf !== null) {
      const holder = entries.find(([k]) => compareBytes(sha256(k), proof.leaf?.path as Uint8Array) === 0);
      assert.ok(holder !== undefined);
      assert.ok(!verifySmtProof(sha256, root, holder[0], null, proof), "cannot prove the holder absent");
      assert.ok(verifySmtProof(sha256, root, holder[0], holder[1], proof), "it is the holder's inclusion proof");
    }
  }
  assert.ok(empty > 0 && divergent > 0, `both kinds occur (empty ${empty}, divergent ${divergent})`);
});

test("any single-byte change in a proof, key or value fails; a proof fails against another root", () => {
  const { store, root, entries } = bigTree(200);
  const cases: Array<{ key: Uint8Array; value: Uint8Array | null; proof: SmtProof }> = [];
  for (const [key, value] of entries.slice(0, 10)) {
    cases.push({ key, value, proof: smtProve(sha256, store, root, sha256(key)) });
  }
  for (let i = 0; cases.length < 30; i++) {
    const key = utf8(`missing-${i}`);
    cases.push({ key, value: null, proof: smtProve(sha256, store, root, sha256(key)) });
  }
  const other = apply(store, root, [[entries[0]?.[0] as Uint8Array, utf8("changed")]]);
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
  const withIt = apply(store, root, [[missing.key, utf8("now present")]]);
  assert.ok(!verifySmtProof(sha256, withIt, missing.key, null, missing.proof));
  const changed = apply(store, root, [[entries[0]?.[0] as Uint8Array, null]]);
  const inclusion = cases[1] as (typeof cases)[number];
  assert.ok(!verifySmtProof(sha256, changed, inclusion.key, inclusion.value, inclusion.proof));
});

test("verifier never throws on malformed proofs", () => {
  const { store, root, entries } = bigTree(20);
  const [key, value] = entries[0] as Entry;
  const good = smtProve(sha256, store, root, sha256(key));
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
    assert.equal(verifySmtProof(sha256, root, key, value, proof as SmtProof), false);
    assert.equal(verifySmtProof(sha256, root, key, null, proof as SmtProof), false);
  }
  assert.equal(verifySmtProof(sha256, root.subarray(1), key, value, good), false);
  assert.equal(verifySmtPathProof(sha256, root, new Uint8Array(31), null, good), false);
});

test("paths that differ only in the last bit sit at depth 256", () => {
  const store = new MemoryStore();
  const a = new Uint8Array(32).fill(0xab);
  const b = a.slice();
  b[31] = (b[31] as number) ^ 0x01;
  const c = a.slice();
  c[0] = 0x00;
  const vh = sha256(utf8("v"));
  const result = applySmtUpdates(sha256, store, ZERO, [
    { path: a, valueHash: vh },
    { path: b, valueHash: vh },
    { path: c, valueHash: vh },
  ]);
  store.putAll(result.newNodes);
  const pairs = [a, b, c].map((p) => [p, vh] as const).sort((x, y) => compareBytes(x[0], y[0]));
  assert.deepEqual(result.root, referenceRoot(pairs));
  const proof = smtProve(sha256, store, result.root, b);
  assert.equal(proof.siblings.length, 256);
  assert.ok(verifySmtPathProof(sha256, result.root, b, vh, proof));
  assert.ok(!verifySmtPathProof(sha256, result.root, a, vh, proof));
  const encoded = encode(encodeSmtProof(proof));
  assert.deepEqual(decodeSmtProof(decode(encoded)), proof);
  // Deleting one of the pair collapses the other all the way back up to depth 1.
  const after = applySmtUpdates(sha256, store, result.root, [{ path: b, valueHash: null }]);
  store.putAll(after.newNodes);
  assert.equal(smtProve(sha256, store, after.root, a).siblings.length, 1);
  assert.deepEqual(after.root, referenceRoot(pairs.filter(([p]) => p !== b)));
});

test("a missing node is an AssertionFailure; bad update shapes are assertions too", () => {
  const { store, root, entries } = bigTree(50);
  const path = sha256((entries[3] as Entry)[0]);
  const broken = new MemoryStore();
  for (const [k, v] of store.nodes) if (k !== toHex(root)) broken.nodes.set(k, v);
  assert.throws(() => smtGet(sha256, broken, root, path), AssertionFailure);
  assert.throws(() => smtProve(sha256, broken, root, path), AssertionFailure);
  assert.throws(() => applySmtUpdates(sha256, broken, root, [{ path, valueHash: null }]), AssertionFailure);
  assert.throws(() => applySmtUpdates(sha256, store, root, [{ path: path.subarray(1), valueHash: null }]), AssertionFailure);
  assert.throws(() => applySmtUpdates(sha256, store, root, [{ path, valueHash: new Uint8Array(3) }]), AssertionFailure);
});

test("encoded proofs round-trip through canonical CBOR; empty siblings are compressed; malformed shapes throw", () => {
  const { store, root, entries } = bigTree(1000);
  let totalBytes = 0;
  for (const [key, value] of entries.slice(0, 50)) {
    const proof = smtProve(sha256, store, root, sha256(key));
    const bytes = encode(encodeSmtProof(proof));
    totalBytes += bytes.length;
    const back = decodeSmtProof(decode(bytes));
    assert.deepEqual(back, proof);
    assert.ok(verifySmtProof(sha256, root, key, value, back));
  }
  assert.ok(totalBytes / 50 < 32 * 20, "a 1,000-key proof is a few hundred bytes");
  const absent = smtProve(sha256, store, root, sha256(utf8("absent")));
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
    getNode: (h) => {
      const node = store.getNode(h);
      return node === undefined ? undefined : Buffer.from(node);
    },
  };
  const [key, value] = entries[4] as Entry;
  const proof = smtProve(sha256, bufferReader, root, sha256(key));
  for (const b of [...proof.siblings, proof.leaf?.path, proof.leaf?.valueHash]) {
    assert.equal(b?.constructor, Uint8Array);
  }
  assert.equal(smtGet(sha256, bufferReader, root, sha256(key))?.constructor, Uint8Array);
  assert.ok(verifySmtProof(sha256, root, key, value, decodeSmtProof(decode(encode(encodeSmtProof(proof))))));
  const result = applySmtUpdates(sha256, bufferReader, root, [toUpdate([key, null])]);
  assert.equal(result.root.constructor, Uint8Array);
  // Mutating a returned proof must not reach the store.
  proof.siblings[0]?.fill(0);
  assert.ok(verifySmtProof(sha256, root, key, value, smtProve(sha256, store, root, sha256(key))));
});
