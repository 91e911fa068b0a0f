import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type BlockHeader,
  blockHash,
  type CommitCertificate,
  type CryptoSuite,
  decode,
  decodeReceipt,
  encode,
  encodeReceipt,
  equalBytes,
  type KeyPair,
  LIMITS,
  makeValidatorSet,
  precommitSignBytes,
  type Receipt,
  type SuiteId,
  toHex,
  type Validator,
  type ValidatorSet,
  type ValidatorSetHop,
  type Value,
  validatorProofFromValue,
  validatorProofToValue,
  validatorsFromValue,
  verifyReceipt,
  verifyValidatorChain,
} from "../src/index.js";
import { errorCode, makeChain, notarisedReceipt, type TestChain } from "./fixtures.js";

const CHAIN_ID = "test-chain";

/** A test validator set: the keys and the canonical set built from them. */
interface KeyedSet {
  readonly keys: KeyPair[];
  readonly set: ValidatorSet;
}

function keyedSet(suite: CryptoSuite, keys: KeyPair[], powers?: number[]): KeyedSet {
  return {
    keys,
    set: makeValidatorSet(
      suite,
      keys.map((k, i) => ({ publicKey: k.publicKey, power: powers?.[i] ?? 1 })),
    ),
  };
}

function headerAt(height: number, current: ValidatorSet, next: ValidatorSet, chainId = CHAIN_ID): BlockHeader {
  return {
    chainId,
    height,
    timeMs: 1_700_000_000_000 + height * 1000,
    prevHash: new Uint8Array(32).fill(height & 0xff),
    txCount: 0,
    txRoot: new Uint8Array(32).fill(1),
    stateRoot: new Uint8Array(32).fill(2),
    resultsRoot: new Uint8Array(32).fill(3),
    validatorsHash: current.hash,
    nextValidatorsHash: next.hash,
    proposer: new Uint8Array(32),
  };
}

/** Precommits for `header` by `signers`, indexed in `set` (a signer outside the set gets an out-of-range index). */
function commitUnder(suite: CryptoSuite, set: ValidatorSet, header: BlockHeader, signers: KeyPair[], round = 0): CommitCertificate {
  const hash = blockHash(suite, header);
  const signBytes = precommitSignBytes(header.chainId, header.height, round, hash);
  return {
    height: header.height,
    round,
    blockHash: hash,
    signatures: signers.map((k) => {
      const index = set.validators.findIndex((v) => equalBytes(v.publicKey, k.publicKey));
      return { validator: index < 0 ? set.validators.length : index, signature: suite.sign(k.privateKey, signBytes) };
    }),
  };
}

function hop(suite: CryptoSuite, height: number, from: KeyedSet, to: KeyedSet, signers = from.keys): ValidatorSetHop {
  const header = headerAt(height, from.set, to.set);
  return { header, commit: commitUnder(suite, from.set, header, signers), nextValidators: to.set.validators };
}

/**
 * Genesis G = 4 validators; block 5 certifies set(6) = S1 (d replaced by e); block 9 certifies
 * set(10) = S2 = {e, f, g} with powers 3, 1, 1.
 */
function scenario(suiteId: SuiteId) {
  const chain = makeChain(suiteId, 4);
  const { suite } = chain;
  const [a, b, c, d] = chain.validators as [KeyPair, KeyPair, KeyPair, KeyPair];
  const e = suite.generateKeyPair();
  const f = suite.generateKeyPair();
  const g = suite.generateKeyPair();
  const G: KeyedSet = { keys: [a, b, c, d], set: chain.genesis.validators };
  const S1 = keyedSet(suite, [a, b, c, e]);
  const S2 = keyedSet(suite, [e, f, g], [3, 1, 1]);
  const hop1 = hop(suite, 5, G, S1);
  const hop2 = hop(suite, 9, S1, S2);
  return { chain, suite, keys: { a, b, c, d, e, f, g }, G, S1, S2, hop1, hop2 };
}

const verify = (s: ReturnType<typeof scenario>, hops: readonly ValidatorSetHop[], target: number) =>
  verifyValidatorChain(s.suite, CHAIN_ID, s.G.set, hops, target);

for (const suiteId of ["ed25519", "sm2"] as const) {
  describe(`validator-set hop chains (${suiteId})`, () => {
    const s = scenario(suiteId);
    const { a, b, c, d, e, f, g } = s.keys;

    test("no hops: the genesis set is trusted at every height", () => {
      assert.equal(toHex(verify(s, [], 1).hash), toHex(s.G.set.hash));
      assert.equal(toHex(verify(s, [], 1_000).hash), toHex(s.G.set.hash));
    });

    test("a chain of two changes leads to the later sets", () => {
      assert.equal(toHex(verify(s, [s.hop1], 6).hash), toHex(s.S1.set.hash));
      assert.equal(toHex(verify(s, [s.hop1, s.hop2], 10).hash), toHex(s.S2.set.hash));
      assert.equal(toHex(verify(s, [s.hop1, s.hop2], 12).hash), toHex(s.S2.set.hash));
      // Exactly > 2/3 is enough: 3 of 4 under G, and e alone holds 3 of 5 (not > 2/3) so S2 needs more.
      const lean = hop(s.suite, 5, s.G, s.S1, [a, c, d]);
      assert.equal(toHex(verify(s, [lean], 6).hash), toHex(s.S1.set.hash));
    });

    test("hops out of order, repeated, or not below the target height are refused", () => {
      assert.equal(
        errorCode(() => verify(s, [s.hop2, s.hop1], 12)),
        "BAD_PROOF",
      );
      assert.equal(
        errorCode(() => verify(s, [s.hop1, s.hop1], 12)),
        "BAD_PROOF",
      );
      // The last hop must be strictly below the target: block 9 itself is committed by S1, not S2.
      assert.equal(
        errorCode(() => verify(s, [s.hop1, s.hop2], 9)),
        "BAD_PROOF",
      );
      assert.equal(
        errorCode(() => verify(s, [s.hop1], 5)),
        "BAD_PROOF",
      );
      assert.equal(
        errorCode(() => verify(s, [], 0)),
        "BAD_PROOF",
      );
    });

    test("a skipped hop is refused: the later hop's commit is not by the trusted set", () => {
      assert.equal(
        errorCode(() => verify(s, [s.hop2], 12)),
        "BAD_PROOF",
      );
    });

    test("forged commits are refused", () => {
      const sigs = s.hop1.commit.signatures;
      const first = sigs[0] as { validator: number; signature: Uint8Array };
      const flipped = Uint8Array.from(first.signature);
      flipped[0] = (flipped[0] as number) ^ 1;
      const forged = { ...s.hop1, commit: { ...s.hop1.commit, signatures: [{ ...first, signature: flipped }, ...sigs.slice(1)] } };
      assert.equal(
        errorCode(() => verify(s, [forged], 6)),
        "BAD_PROOF",
      );
      // A commit for another block, another height, another chain.
      const other = hop(s.suite, 6, s.G, s.S1);
      assert.equal(
        errorCode(() => verify(s, [{ ...s.hop1, commit: other.commit }], 7)),
        "BAD_PROOF",
      );
      const foreign = { ...s.hop1.header, chainId: "other-chain" };
      const foreignHop = { header: foreign, commit: commitUnder(s.suite, s.G.set, foreign, s.G.keys), nextValidators: s.S1.set.validators };
      assert.equal(
        errorCode(() => verify(s, [foreignHop], 6)),
        "BAD_PROOF",
      );
      // Signed by keys outside the trusted set (the new set certifying its own arrival).
      assert.equal(
        errorCode(() => verify(s, [hop(s.suite, 5, s.G, s.S1, [e, f, g])], 6)),
        "BAD_PROOF",
      );
    });

    test("too few signatures under the old set are refused, whatever the new set signs", () => {
      assert.equal(
        errorCode(() => verify(s, [hop(s.suite, 5, s.G, s.S1, [a, b])], 6)),
        "BAD_PROOF",
      );
      // Under S1 = {a, b, c, e}: 2 of 4 fail, 3 of 4 pass; S2's own keys count for nothing before height 10.
      assert.equal(
        errorCode(() => verify(s, [s.hop1, hop(s.suite, 9, s.S1, s.S2, [a, b])], 10)),
        "BAD_PROOF",
      );
      assert.equal(
        errorCode(() => verify(s, [s.hop1, hop(s.suite, 9, s.S1, s.S2, [a, e, f, g])], 10)),
        "BAD_PROOF",
      );
      assert.equal(
        errorCode(() => verify(s, [s.hop1, hop(s.suite, 9, s.S1, s.S2, [a, b, e])], 10)),
        "none",
      );
    });

    test("a next list that does not match the certified header is refused", () => {
      const wrong = keyedSet(s.suite, [a, b, c, d, e]);
      assert.equal(
        errorCode(() => verify(s, [{ ...s.hop1, nextValidators: wrong.set.validators }], 6)),
        "BAD_PROOF",
      );
      // Power changed in the list only.
      const repowered = s.S1.set.validators.map((v, i) => (i === 0 ? { ...v, power: 2 } : v));
      assert.equal(
        errorCode(() => verify(s, [{ ...s.hop1, nextValidators: repowered }], 6)),
        "BAD_PROOF",
      );
      // The header altered to name the forged list: the commit no longer covers it.
      const altered = { ...s.hop1, header: { ...s.hop1.header, nextValidatorsHash: wrong.set.hash }, nextValidators: wrong.set.validators };
      assert.equal(
        errorCode(() => verify(s, [altered], 6)),
        "BAD_PROOF",
      );
      // An invalid key in the list.
      const badKey: Validator[] = [{ publicKey: new Uint8Array(s.suite.publicKeyBytes), power: 1 }];
      assert.equal(
        errorCode(() => verify(s, [{ ...s.hop1, nextValidators: badKey }], 6)),
        "BAD_PROOF",
      );
    });

    test("signatures of the new set are not accepted before the change takes effect", () => {
      // Block 5 is still committed by G: a header for 5 naming S1 and signed by S1 is refused...
      const early = headerAt(5, s.S1.set, s.S1.set);
      assert.equal(
        errorCode(() =>
          verify(s, [{ header: early, commit: commitUnder(s.suite, s.S1.set, early, s.S1.keys), nextValidators: s.S2.set.validators }], 6),
        ),
        "BAD_PROOF",
      );
      // ...and a proof whose hop sits at the target height does not make S1 trusted there.
      assert.equal(
        errorCode(() => verify(s, [s.hop1], 5)),
        "BAD_PROOF",
      );
    });

    test("a hop that changes nothing is refused (every proof of a set is minimal)", () => {
      assert.equal(
        errorCode(() => verify(s, [hop(s.suite, 5, s.G, s.G)], 6)),
        "BAD_PROOF",
      );
    });

    test("encoding round trip and strict decoding", () => {
      const value = validatorProofToValue([s.hop1, s.hop2]);
      const decoded = validatorProofFromValue(decode(encode(value)));
      assert.deepEqual(encode(validatorProofToValue(decoded)), encode(value));
      assert.equal(toHex(verify(s, decoded, 10).hash), toHex(s.S2.set.hash));
      const hopValue = (value as Value[])[0] as Record<string, Value>;
      const list = hopValue.nextValidators as Value[];
      const bad = (v: Value) => errorCode(() => validatorProofFromValue(v));
      assert.equal(bad([{ ...hopValue, nextValidators: [...list].reverse() }]), "BAD_ENCODING", "unsorted");
      assert.equal(bad([{ ...hopValue, nextValidators: [list[0] as Value, list[0] as Value] }]), "BAD_ENCODING", "duplicate");
      assert.equal(bad([{ ...hopValue, nextValidators: [] }]), "BAD_ENCODING", "empty set");
      assert.equal(bad([{ ...hopValue, nextValidators: [[(list[0] as Value[])[0] as Value, 0]] }]), "BAD_ENCODING", "zero power");
      assert.equal(bad([{ ...hopValue, extra: 1 }]), "BAD_ENCODING", "extra key");
      assert.equal(bad([{ header: hopValue.header as Value, commit: hopValue.commit as Value }]), "BAD_ENCODING", "missing key");
      assert.equal(bad({ hops: [] }), "BAD_ENCODING", "not a list");
      assert.equal(bad(Array.from({ length: LIMITS.validatorHopsMax + 1 }, () => hopValue)), "BAD_ENCODING", "too many hops");
      assert.equal(
        errorCode(() => validatorsFromValue(list)),
        "none",
      );
    });
  });
}

/** A receipt of a notarisation in block `height`, committed by `committing`, with `hops` as its validator proof. */
function receiptAt(chain: TestChain, height: number, committing: KeyedSet, next: KeyedSet, hops: ValidatorSetHop[]): Receipt {
  const base = notarisedReceipt(chain, new Uint8Array(32).fill(5));
  const header: BlockHeader = { ...base.header, height, validatorsHash: committing.set.hash, nextValidatorsHash: next.set.hash };
  return { ...base, header, commit: commitUnder(chain.suite, committing.set, header, committing.keys), validatorProof: hops };
}

for (const suiteId of ["ed25519", "sm2"] as const) {
  describe(`receipts across validator-set changes (${suiteId})`, () => {
    const s = scenario(suiteId);
    const receipt = receiptAt(s.chain, 12, s.S2, s.S2, [s.hop1, s.hop2]);

    test("a receipt two changes after genesis verifies with nothing but the genesis", () => {
      const verified = verifyReceipt(s.chain.genesis, decodeReceipt(encodeReceipt(receipt)));
      assert.equal(verified.header.height, 12);
      assert.equal(toHex(verified.validators.hash), toHex(s.S2.set.hash));
      assert.deepEqual(decodeReceipt(encodeReceipt(receipt)).validatorProof?.length, 2);
    });

    test("missing, partial or misordered proofs are refused", () => {
      for (const hops of [[], [s.hop1], [s.hop2], [s.hop2, s.hop1]]) {
        assert.equal(
          errorCode(() => verifyReceipt(s.chain.genesis, { ...receipt, validatorProof: hops })),
          "BAD_RECEIPT",
        );
      }
      const { validatorProof: _omitted, ...bare } = receipt;
      assert.equal(
        errorCode(() => verifyReceipt(s.chain.genesis, bare)),
        "BAD_RECEIPT",
      );
    });

    test("a block before the second change is committed by S1 and proven with the first hop only", () => {
      const r = receiptAt(s.chain, 9, s.S1, s.S2, [s.hop1]);
      assert.equal(toHex(verifyReceipt(s.chain.genesis, r).validators.hash), toHex(s.S1.set.hash));
      // S2 signing block 9 (its set takes over at 10) is refused, with or without the second hop.
      const early = receiptAt(s.chain, 9, s.S2, s.S2, [s.hop1]);
      assert.equal(
        errorCode(() => verifyReceipt(s.chain.genesis, early)),
        "BAD_RECEIPT",
      );
      assert.equal(
        errorCode(() => verifyReceipt(s.chain.genesis, { ...early, validatorProof: [s.hop1, s.hop2] })),
        "BAD_RECEIPT",
      );
    });

    test("the genesis of another chain refuses it", () => {
      assert.equal(
        errorCode(() => verifyReceipt(makeChain(suiteId, 4).genesis, receipt)),
        "BAD_RECEIPT",
      );
    });
  });
}

describe("receipt encoding with and without a validator proof", () => {
  const chain = makeChain("ed25519", 4);
  const plain = notarisedReceipt(chain, new Uint8Array(32).fill(6));

  test("an empty proof is encoded as absent: receipts of unchanged sets keep their bytes", () => {
    assert.deepEqual(encodeReceipt({ ...plain, validatorProof: [] }), encodeReceipt(plain));
    const decoded = decodeReceipt(encodeReceipt(plain));
    assert.equal(decoded.validatorProof, undefined);
    verifyReceipt(chain.genesis, decoded);
  });

  test("an explicit empty proof, an unknown field or a missing field is refused", () => {
    const value = decode(encodeReceipt(plain)) as Record<string, Value>;
    assert.equal(
      errorCode(() => decodeReceipt(encode({ ...value, validatorProof: [] }))),
      "BAD_RECEIPT",
    );
    assert.equal(
      errorCode(() => decodeReceipt(encode({ ...value, extra: null }))),
      "BAD_RECEIPT",
    );
    const { state: _state, ...missing } = value;
    assert.equal(
      errorCode(() => decodeReceipt(encode(missing))),
      "BAD_RECEIPT",
    );
  });

  test("an altered byte anywhere in a receipt with a proof is refused (every 5th byte: each check costs signatures)", () => {
    const s = scenario("ed25519");
    const bytes = encodeReceipt(receiptAt(s.chain, 12, s.S2, s.S2, [s.hop1, s.hop2]));
    verifyReceipt(s.chain.genesis, decodeReceipt(bytes));
    for (let i = 0; i < bytes.length; i += 5) {
      const altered = Uint8Array.from(bytes);
      altered[i] = (altered[i] as number) ^ 0x01;
      const code = errorCode(() => verifyReceipt(s.chain.genesis, decodeReceipt(altered)));
      assert.equal(code, "BAD_RECEIPT", `byte ${i} altered: ${code}`);
    }
  });
});
