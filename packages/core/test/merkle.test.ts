import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { concatBytes, fromHex, toHex } from "../src/bytes.js";
import { decode, encode } from "../src/encoding.js";
import { isTallyError } from "../src/errors.js";
import {
  decodeMerkleProof,
  encodeMerkleProof,
  type HashFn,
  type MerkleProof,
  MerkleTree,
  merkleProof,
  merkleProofs,
  merkleRoot,
  verifyMerkleProof,
} from "../src/merkle.js";

const sha256: HashFn = (d) => new Uint8Array(createHash("sha256").update(d).digest());

const leafHash = (leaf: Uint8Array): Uint8Array => sha256(concatBytes(new Uint8Array([0]), leaf));
const nodeHash = (l: Uint8Array, r: Uint8Array): Uint8Array => sha256(concatBytes(new Uint8Array([1]), l, r));

/** RFC 6962 §2.1 MTH, written as the recursive definition. */
function referenceRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const n = leaves.length;
  if (n === 0) return sha256(new Uint8Array(0));
  if (n === 1) return leafHash(leaves[0] as Uint8Array);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]). */
function referencePath(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  const n = leaves.length;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  if (m < k) return [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))];
  return [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

const leavesOf = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf-${i}`));

function flipByte(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] as number) ^ 0x01;
  return out;
}

test("RFC 6962 known values: empty tree, one empty leaf, hand-built small trees", () => {
  assert.equal(toHex(merkleRoot(sha256, [])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The Certificate Transparency test vector for a tree of one empty leaf: SHA-256(0x00).
  assert.equal(toHex(merkleRoot(sha256, [new Uint8Array(0)])), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const [a, b, c] = [fromHex("00"), fromHex("10"), fromHex("2021")] as [Uint8Array, Uint8Array, Uint8Array];
  assert.deepEqual(merkleRoot(sha256, [a]), leafHash(a));
  assert.deepEqual(merkleRoot(sha256, [a, b]), nodeHash(leafHash(a), leafHash(b)));
  // n = 3 splits at k = 2: the third leaf is the right child of the root.
  assert.deepEqual(merkleRoot(sha256, [a, b, c]), nodeHash(nodeHash(leafHash(a), leafHash(b)), leafHash(c)));
  assert.deepEqual(merkleProof(sha256, [a, b, c], 2).siblings, [nodeHash(leafHash(a), leafHash(b))]);
  assert.deepEqual(merkleProof(sha256, [a, b, c], 0).siblings, [leafHash(b), leafHash(c)]);
  assert.deepEqual(merkleProof(sha256, [a], 0), { index: 0, total: 1, siblings: [] });
});

test("root and audit paths equal the RFC 6962 recursive definition for n = 0..70", () => {
  for (let n = 0; n <= 70; n++) {
    const leaves = leavesOf(n);
    const tree = new MerkleTree(sha256, leaves);
    assert.deepEqual(tree.root(), referenceRoot(leaves), `root n=${n}`);
    assert.equal(tree.size, n);
    for (let m = 0; m < n; m++) {
      assert.deepEqual(tree.proof(m).siblings, referencePath(m, leaves), `path n=${n} m=${m}`);
    }
  }
});

test("every proof verifies for n = 1..70 and every tampering fails", () => {
  for (let n = 1; n <= 70; n++) {
    const leaves = leavesOf(n);
    const root = merkleRoot(sha256, leaves);
    const proofs = merkleProofs(sha256, leaves);
    assert.equal(proofs.length, n);
    for (let m = 0; m < n; m++) {
      const proof = proofs[m] as MerkleProof;
      const leaf = leaves[m] as Uint8Array;
      assert.ok(verifyMerkleProof(sha256, root, leaf, proof), `n=${n} m=${m}`);
      // Another leaf's bytes, or the leaf changed in one byte.
      assert.ok(!verifyMerkleProof(sha256, root, leaves[(m + 1) % n] as Uint8Array, proof) || n === 1);
      assert.ok(!verifyMerkleProof(sha256, root, flipByte(leaf, 0), proof));
      assert.ok(!verifyMerkleProof(sha256, root, concatBytes(leaf, new Uint8Array([0])), proof));
      // Each sibling changed in one byte (first and last).
      proof.siblings.forEach((_, s) => {
        for (const at of [0, 31]) {
          const siblings = proof.siblings.map((x, i) => (i === s ? flipByte(x, at) : x));
          assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings }));
        }
      });
      // Every other index in the same tree, and indexes out of range.
      for (let j = 0; j < n; j++) {
        if (j !== m) assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, index: j }));
      }
      assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, index: n }));
      assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, index: -1 }));
      assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, index: m + 0.5 }));
      assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, total: m }));
      // Siblings added, dropped, reordered, or of the wrong length.
      assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings: [...proof.siblings, root] }));
      if (proof.siblings.length > 0) {
        assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings: proof.siblings.slice(1) }));
        assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings: proof.siblings.slice(0, -1) }));
        const short = proof.siblings.map((x, i) => (i === 0 ? x.subarray(0, 31) : x));
        assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings: short }));
      }
      if (proof.siblings.length > 1) {
        const reversed = [...proof.siblings].reverse();
        assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings: reversed }));
      }
      assert.ok(!verifyMerkleProof(sha256, flipByte(root, 5), leaf, proof));
      assert.ok(!verifyMerkleProof(sha256, root.subarray(0, 31), leaf, proof));
    }
  }
});

test("verifier never throws on junk", () => {
  const leaves = leavesOf(5);
  const root = merkleRoot(sha256, leaves);
  const leaf = leaves[0] as Uint8Array;
  const junk: unknown[] = [
    null,
    {},
    { index: 0, total: 5 },
    { index: 0, total: 5, siblings: "x" },
    { index: 0, total: 5, siblings: [null, 1] },
    { index: "0", total: 5, siblings: [] },
    { index: 0, total: Number.POSITIVE_INFINITY, siblings: [] },
    { index: 0, total: 2 ** 60, siblings: [] },
    { index: 0, total: 5, siblings: Array.from({ length: 65 }, () => new Uint8Array(32)) },
  ];
  for (const proof of junk) assert.equal(verifyMerkleProof(sha256, root, leaf, proof as MerkleProof), false);
});

test("out-of-range proof requests throw NOT_FOUND", () => {
  for (const [n, index] of [
    [0, 0],
    [3, 3],
    [3, -1],
    [3, 1.5],
  ] as const) {
    assert.throws(
      () => merkleProof(sha256, leavesOf(n), index),
      (err) => isTallyError(err) && err.code === "NOT_FOUND",
    );
  }
});

test("encoded proofs round-trip through canonical CBOR; malformed shapes throw BAD_PROOF", () => {
  const leaves = leavesOf(13);
  const root = merkleRoot(sha256, leaves);
  for (const [m, proof] of merkleProofs(sha256, leaves).entries()) {
    const back = decodeMerkleProof(decode(encode(encodeMerkleProof(proof))));
    assert.deepEqual(back, proof);
    assert.ok(verifyMerkleProof(sha256, root, leaves[m] as Uint8Array, back));
  }
  const h = new Uint8Array(32);
  const bad: unknown[] = [
    null,
    [],
    new Uint8Array(3),
    { index: 0, total: 1 },
    { index: 0, total: 1, siblings: [], extra: 1 },
    { index: 1, total: 1, siblings: [] },
    { index: -1, total: 1, siblings: [] },
    { index: 0, total: 2 ** 63, siblings: [] },
    { index: 0, total: 2n ** 62n, siblings: [] },
    { index: 0, total: 1, siblings: h },
    { index: 0, total: 2, siblings: [new Uint8Array(31)] },
    { index: 0, total: 2, siblings: ["00"] },
    { index: 0, total: 2, siblings: Array.from({ length: 65 }, () => h) },
  ];
  for (const value of bad) {
    assert.throws(
      () => decodeMerkleProof(value as never),
      (err) => isTallyError(err) && err.code === "BAD_PROOF",
    );
  }
});

test("property: proofs of random lists verify, and a changed leaf, index or sibling does not", () => {
  const leafArb = fc.uint8Array({ minLength: 0, maxLength: 40 });
  fc.assert(
    fc.property(
      fc.uniqueArray(leafArb, { minLength: 1, maxLength: 300, selector: (l) => toHex(l) }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      (leaves, a, b, c) => {
        const tree = new MerkleTree(sha256, leaves);
        const root = tree.root();
        assert.deepEqual(root, referenceRoot(leaves));
        const m = a % leaves.length;
        const proof = tree.proof(m);
        const leaf = leaves[m] as Uint8Array;
        assert.ok(verifyMerkleProof(sha256, root, leaf, proof));
        const other = leaves[b % leaves.length] as Uint8Array;
        if (other !== leaf) assert.ok(!verifyMerkleProof(sha256, root, other, proof));
        const j = b % leaves.length;
        if (j !== m) assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, index: j }));
        if (proof.siblings.length > 0) {
          const s = c % proof.siblings.length;
          const siblings = proof.siblings.map((x, i) => (i === s ? flipByte(x, c % 32) : x));
          assert.ok(!verifyMerkleProof(sha256, root, leaf, { ...proof, siblings }));
        }
      },
    ),
    { numRuns: 200 },
  );
});
