import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { sm2 as smSm2 } from "sm-crypto-v2";
import { concatBytes, fromHex, toHex, utf8 } from "../src/bytes.js";
import * as nodeBackend from "../src/crypto/backend-node.js";
import * as webBackend from "../src/crypto/backend-web.js";
import { cryptoBackendName, getSuite, SUITE_IDS } from "../src/crypto/index.js";
import { SM2_DEFAULT_USER_ID } from "../src/crypto/sm2.js";
import type { CryptoSuite, SuiteId } from "../src/crypto/suite.js";
import { webSuites } from "../src/crypto/web-suites.js";
import { type ErrorCode, TallyError } from "../src/errors.js";

const backends = [
  { name: "node", suite: (id: SuiteId) => getSuite(id) },
  { name: "web", suite: (id: SuiteId) => webSuites[id] },
] as const;

/** Every (suite id, backend) pair, so each check runs against OpenSSL and the pure-JS code alike. */
function eachBackend(id: SuiteId, fn: (suite: CryptoSuite, backend: string) => void): void {
  for (const b of backends) fn(b.suite(id), b.name);
}

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof TallyError && e.code === code);
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

/** A few bit positions spread over the value: first, last, the middle, and byte boundaries. */
function sampleBits(length: number): number[] {
  const bits = length * 8;
  return [...new Set([0, 1, 7, 8, bits >> 1, bits - 8, bits - 1])];
}

function isPlainUint8Array(value: unknown): boolean {
  return Object.getPrototypeOf(value) === Uint8Array.prototype;
}

// ---------------------------------------------------------------- suite registry

test("getSuite returns both suites on the node backend and refuses unknown ids", () => {
  assert.equal(cryptoBackendName, "node");
  assert.equal(nodeBackend.name, "node");
  assert.equal(webBackend.name, "web");
  for (const id of SUITE_IDS) {
    assert.equal(getSuite(id).id, id);
    assert.equal(webSuites[id].id, id);
  }
  assert.equal(getSuite("ed25519").publicKeyBytes, 32);
  assert.equal(getSuite("sm2").publicKeyBytes, 65);
  assert.equal(getSuite("sm2").signatureBytes, 64);
  for (const bad of ["secp256k1", "", "ED25519", "__proto__", "constructor"]) throwsCode(() => getSuite(bad), "UNKNOWN_SUITE");
});

// ---------------------------------------------------------------- hashes

const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";
const SM3_ABCD_X16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732";

test("hash known answers: SHA-256 for ed25519, SM3 (GB/T 32905 appendix A) for sm2", () => {
  eachBackend("ed25519", (suite) => {
    assert.equal(toHex(suite.hash(utf8("abc"))), SHA256_ABC);
    assert.equal(toHex(suite.hash(new Uint8Array())), SHA256_EMPTY);
  });
  eachBackend("sm2", (suite) => {
    assert.equal(toHex(suite.hash(utf8("abc"))), SM3_ABC);
    assert.equal(toHex(suite.hash(utf8("abcd".repeat(16)))), SM3_ABCD_X16);
  });
});

test("both backends hash arbitrary input identically, including multi-block input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1000 }), (data) => {
      assert.equal(toHex(nodeBackend.sha256(data)), toHex(webBackend.sha256(data)));
      assert.equal(toHex(nodeBackend.sm3(data)), toHex(webBackend.sm3(data)));
    }),
    { numRuns: 200 },
  );
});

test("node backend returns plain Uint8Arrays, never Buffers", () => {
  const seed = new Uint8Array(32).fill(1);
  for (const value of [
    nodeBackend.sha256(utf8("x")),
    nodeBackend.sm3(utf8("x")),
    nodeBackend.randomBytes(8),
    nodeBackend.ed25519PublicFromSeed(seed),
    nodeBackend.ed25519Sign(seed, utf8("x")),
  ]) {
    assert.ok(isPlainUint8Array(value));
  }
});

test("randomBytes gives the requested length on both backends, beyond the 64 KiB getRandomValues limit", () => {
  for (const b of [nodeBackend, webBackend]) {
    assert.equal(b.randomBytes(0).length, 0);
    assert.equal(b.randomBytes(32).length, 32);
    const big = b.randomBytes(70_000);
    assert.equal(big.length, 70_000);
    assert.ok(
      big.subarray(65_536).some((x) => x !== 0),
      "the tail past the first chunk is filled",
    );
  }
});

// ---------------------------------------------------------------- ed25519

// RFC 8032 §7.1, TEST 1 and TEST 2.
const RFC8032 = [
  {
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
];

const ORDER_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const FIELD_P = 2n ** 255n - 19n;
// A point of order 8 (its multiples are the eight small-order points).
const ORDER_8_POINT = noble.Point.fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa");

test("ed25519 RFC 8032 §7.1 TEST 1 and TEST 2 on both backends", () => {
  eachBackend("ed25519", (suite, backend) => {
    for (const v of RFC8032) {
      const key = suite.keyPairFromPrivate(fromHex(v.seed));
      assert.equal(toHex(key.publicKey), v.publicKey, backend);
      assert.equal(toHex(suite.sign(key.privateKey, fromHex(v.message))), v.signature, backend);
      assert.equal(suite.verify(fromHex(v.publicKey), fromHex(v.message), fromHex(v.signature)), true, backend);
      suite.checkPublicKey(key.publicKey);
    }
  });
});

test("ed25519 signatures are deterministic and identical on both backends; each backend verifies the other's", () => {
  const node = getSuite("ed25519");
  const web = webSuites.ed25519;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
      const key = node.keyPairFromPrivate(seed);
      assert.equal(toHex(web.keyPairFromPrivate(seed).publicKey), toHex(key.publicKey));
      const sigNode = node.sign(key.privateKey, message);
      const sigWeb = web.sign(key.privateKey, message);
      assert.equal(toHex(sigNode), toHex(sigWeb));
      assert.equal(node.verify(key.publicKey, message, sigWeb), true);
      assert.equal(web.verify(key.publicKey, message, sigNode), true);
    }),
    { numRuns: 50 },
  );
});

test("ed25519: a signature with S + L (non-canonical S) is refused by both backends", () => {
  eachBackend("ed25519", (suite, backend) => {
    const key = suite.generateKeyPair();
    const message = utf8("malleable?");
    const sig = suite.sign(key.privateKey, message);
    const s = bytesToNumberLE(sig.subarray(32));
    const malleated = concatBytes(sig.subarray(0, 32), numberToBytesLE(s + ORDER_L, 32));
    assert.equal(suite.verify(key.publicKey, message, sig), true, backend);
    assert.equal(suite.verify(key.publicKey, message, malleated), false, backend);
    // S = L exactly, and the largest 32-byte S.
    assert.equal(suite.verify(key.publicKey, message, concatBytes(sig.subarray(0, 32), numberToBytesLE(ORDER_L, 32))), false);
    assert.equal(suite.verify(key.publicKey, message, concatBytes(sig.subarray(0, 32), new Uint8Array(32).fill(0xff))), false);
  });
});

/** R = [r]B + extra and S = r + k·a, so that [S]B = R - extra + [k]·[a]B: forgeries with chosen torsion. */
function forgeWithR(seed: Uint8Array, message: Uint8Array, extra: typeof ORDER_8_POINT, publicKey?: Uint8Array, r = 1000n) {
  const { scalar, pointBytes } = noble.utils.getExtendedPublicKey(seed);
  const encodedR = noble.Point.BASE.multiply(r).add(extra).toBytes();
  const k = bytesToNumberLE(sha512(concatBytes(encodedR, publicKey ?? pointBytes, message))) % ORDER_L;
  return { signature: concatBytes(encodedR, numberToBytesLE((r + k * scalar) % ORDER_L, 32)), k };
}

test("ed25519: R with a small-order component is refused by both backends (cofactorless equation)", () => {
  const seed = new Uint8Array(32).fill(9);
  const message = utf8("torsion");
  const publicKey = getSuite("ed25519").keyPairFromPrivate(seed).publicKey;
  const { signature } = forgeWithR(seed, message, ORDER_8_POINT);
  // noble's own cofactored verify accepts it, which is why backend-web does not call it.
  assert.equal(noble.verify(signature, message, publicKey, { zip215: false }), true);
  assert.equal(nodeBackend.ed25519Verify(publicKey, message, signature), false);
  assert.equal(webBackend.ed25519Verify(publicKey, message, signature), false);
  eachBackend("ed25519", (suite) => assert.equal(suite.verify(publicKey, message, signature), false));
});

test("ed25519: keys with a small-order component verify identically on both backends; checkPublicKey refuses them", () => {
  const seed = new Uint8Array(32).fill(5);
  const { scalar } = noble.utils.getExtendedPublicKey(seed);
  const mixedKey = noble.Point.BASE.multiply(scalar).add(ORDER_8_POINT).toBytes();
  const outcomes = new Set<boolean>();
  for (let i = 0; i < 200 && (i < 20 || outcomes.size < 2); i++) {
    const message = utf8(`mixed ${i}`);
    const { signature, k } = forgeWithR(seed, message, noble.Point.ZERO, mixedKey);
    const expected = k % 8n === 0n; // [k]T = 0 only then
    outcomes.add(expected);
    eachBackend("ed25519", (suite, backend) => assert.equal(suite.verify(mixedKey, message, signature), expected, backend));
  }
  assert.deepEqual([...outcomes].sort(), [false, true], "both outcomes were exercised");
  eachBackend("ed25519", (suite) => throwsCode(() => suite.checkPublicKey(mixedKey), "BAD_KEY"));
});

test("ed25519: small-order public keys are refused although OpenSSL alone accepts forgeries for them", () => {
  const message = utf8("anything at all");
  const identity = fromHex("0100000000000000000000000000000000000000000000000000000000000000");
  // With the identity as key, R = [S]B verifies for every message.
  const forged = concatBytes(noble.Point.BASE.multiply(5n).toBytes(), numberToBytesLE(5n, 32));
  assert.equal(nodeBackend.ed25519Verify(identity, message, forged), true, "OpenSSL accepts: the suite must filter");
  const smallOrder = [...Array(8).keys()].map((i) => (i === 0 ? noble.Point.ZERO : ORDER_8_POINT.multiply(BigInt(i))).toBytes());
  const negativeZero = [flipBit(identity, 255), flipBit(numberToBytesLE(FIELD_P - 1n, 32), 255)];
  eachBackend("ed25519", (suite, backend) => {
    assert.equal(suite.verify(identity, message, forged), false, backend);
    assert.equal(suite.verify(negativeZero[0] as Uint8Array, message, forged), false, backend);
    for (const key of [...smallOrder, ...negativeZero]) throwsCode(() => suite.checkPublicKey(key), "BAD_KEY");
  });
});

test("ed25519: non-canonical encodings (y >= p) are refused", () => {
  // y = p + 1 is the identity again; y = p + 3 re-encodes a point whose canonical y is 3, if one exists.
  const candidates = [1n, 2n, 3n, 4n, 5n, 6n].map((y) => numberToBytesLE(FIELD_P + y, 32));
  const sig = new Uint8Array(64);
  eachBackend("ed25519", (suite) => {
    for (const key of candidates) {
      throwsCode(() => suite.checkPublicKey(key), "BAD_KEY");
      assert.equal(suite.verify(key, utf8("x"), sig), false);
    }
  });
});

test("ed25519 checkPublicKey agrees with noble's strict decoding plus subgroup checks on random bytes", () => {
  const reference = (key: Uint8Array): boolean => {
    try {
      const point = noble.Point.fromBytes(key, false);
      return !point.isSmallOrder() && point.isTorsionFree();
    } catch {
      return false;
    }
  };
  const suite = getSuite("ed25519");
  const valid = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((seed) => suite.keyPairFromPrivate(seed).publicKey);
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), valid), (key) => {
      let accepted = true;
      try {
        suite.checkPublicKey(key);
      } catch (e) {
        assert.ok(e instanceof TallyError && e.code === "BAD_KEY");
        accepted = false;
      }
      assert.equal(accepted, reference(key));
    }),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------- sm2

interface Sm2Vector {
  readonly name: string;
  readonly userId: string;
  readonly publicKey: string;
  readonly message: string;
  readonly signature: string;
}

const OPENSSL_VECTORS = JSON.parse(readFileSync(new URL("../../../spec/test-vectors/sm2-openssl.json", import.meta.url), "utf8")) as {
  privateKey: string;
  vectors: Sm2Vector[];
};

// GM/T 0003.5-2012 (GB/T 32918.5-2017) appendix, signature example on the sm2p256v1 curve, user id
// "1234567812345678", message "message digest"; k is the nonce the example used.
const GMT_0003_5 = {
  privateKey: "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
  publicKey:
    "04" +
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020" +
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13",
  message: "message digest",
  e: "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640",
  k: "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21",
  signature:
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3" + "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
};

const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

function scalarBytes(value: bigint): Uint8Array {
  return fromHex(value.toString(16).padStart(64, "0"));
}

test("sm2 GM/T 0003.5 published example: public key, e = SM3(Z_A || M) and signature, on both backends", () => {
  // Z_A computed here from the standard's definition, independently of sm2.ts.
  const curve = [
    "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc",
    "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93",
    "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7",
    "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0",
  ].join("");
  eachBackend("sm2", (suite, backend) => {
    const key = suite.keyPairFromPrivate(fromHex(GMT_0003_5.privateKey));
    assert.equal(toHex(key.publicKey), GMT_0003_5.publicKey, backend);
    const za = suite.hash(fromHex(`0080${toHex(utf8(SM2_DEFAULT_USER_ID))}${curve}${GMT_0003_5.publicKey.slice(2)}`));
    assert.equal(toHex(suite.hash(concatBytes(za, utf8(GMT_0003_5.message)))), GMT_0003_5.e, backend);
    const signature = fromHex(GMT_0003_5.signature);
    assert.equal(suite.verify(key.publicKey, utf8(GMT_0003_5.message), signature), true, backend);
    assert.equal(suite.verify(key.publicKey, utf8("message digesT"), signature), false, backend);
  });
});

test("sm2 OpenSSL vectors verify on both backends; OpenSSL's private key gives its public key", () => {
  assert.ok(OPENSSL_VECTORS.vectors.length >= 5);
  assert.ok(OPENSSL_VECTORS.vectors.some((v) => v.message === ""));
  assert.ok(OPENSSL_VECTORS.vectors.some((v) => v.message === toHex(utf8("message digest"))));
  eachBackend("sm2", (suite, backend) => {
    const key = suite.keyPairFromPrivate(fromHex(OPENSSL_VECTORS.privateKey));
    for (const v of OPENSSL_VECTORS.vectors) {
      assert.equal(v.userId, SM2_DEFAULT_USER_ID);
      assert.equal(toHex(key.publicKey), v.publicKey);
      suite.checkPublicKey(fromHex(v.publicKey));
      assert.equal(suite.verify(fromHex(v.publicKey), fromHex(v.message), fromHex(v.signature)), true, `${backend} ${v.name}`);
    }
  });
});

test("sm2 OpenSSL vectors: a one-bit change in any field makes verification fail", () => {
  for (const v of OPENSSL_VECTORS.vectors) {
    const publicKey = fromHex(v.publicKey);
    const message = fromHex(v.message);
    const signature = fromHex(v.signature);
    eachBackend("sm2", (suite, backend) => {
      const label = `${backend} ${v.name}`;
      for (const bit of sampleBits(65)) assert.equal(suite.verify(flipBit(publicKey, bit), message, signature), false, label);
      for (const bit of sampleBits(64)) assert.equal(suite.verify(publicKey, message, flipBit(signature, bit)), false, label);
      const changedMessages = message.length === 0 ? [Uint8Array.of(0)] : sampleBits(message.length).map((bit) => flipBit(message, bit));
      for (const m of changedMessages) assert.equal(suite.verify(publicKey, m, signature), false, label);
    });
    // The user id is fixed in the suite, so check the vector against sm-crypto-v2 directly with each id.
    const options = (userId: string) => ({ hash: true, der: false, userId });
    assert.equal(smSm2.doVerifySignature(message, v.signature, v.publicKey, options(v.userId)), true);
    for (const bit of sampleBits(v.userId.length)) {
      const userId = String.fromCharCode(...flipBit(utf8(v.userId), bit));
      assert.equal(smSm2.doVerifySignature(message, v.signature, v.publicKey, options(userId)), false, `user id ${userId}`);
    }
  }
});

test("sm2 sign/verify round trip, across backends; signatures are randomised", () => {
  const node = getSuite("sm2");
  const web = webSuites.sm2;
  const key = node.generateKeyPair();
  assert.equal(key.suite, "sm2");
  assert.equal(key.privateKey.length, 32);
  assert.equal(key.publicKey.length, 65);
  assert.equal(toHex(web.keyPairFromPrivate(key.privateKey).publicKey), toHex(key.publicKey));
  const message = utf8("transfer 10 to bob");
  const sigNode = node.sign(key.privateKey, message);
  const sigWeb = web.sign(key.privateKey, message);
  assert.ok(isPlainUint8Array(sigNode));
  assert.notEqual(toHex(sigNode), toHex(node.sign(key.privateKey, message)), "a fresh nonce per signature");
  for (const suite of [node, web]) {
    for (const sig of [sigNode, sigWeb]) {
      assert.equal(sig.length, 64);
      // Verified several times so the precomputed-point path runs too.
      for (let i = 0; i < 3; i++) assert.equal(suite.verify(key.publicKey, message, sig), true);
    }
  }
});

test("sm2: r or s out of [1, n-1] is refused without throwing", () => {
  eachBackend("sm2", (suite, backend) => {
    const key = suite.generateKeyPair();
    const message = utf8("range");
    const sig = suite.sign(key.privateKey, message);
    const r = sig.subarray(0, 32);
    const s = sig.subarray(32);
    const bad = [0n, SM2_N, SM2_N + 1n, 2n ** 256n - 1n].map(scalarBytes);
    for (const value of bad) {
      assert.equal(suite.verify(key.publicKey, message, concatBytes(value, s)), false, `${backend} r`);
      assert.equal(suite.verify(key.publicKey, message, concatBytes(r, value)), false, `${backend} s`);
    }
    assert.equal(suite.verify(key.publicKey, message, concatBytes(scalarBytes(SM2_N - 1n), scalarBytes(1n))), false);
  });
});

test("sm2: malformed public keys are refused by checkPublicKey and verify", () => {
  const node = getSuite("sm2");
  const key = node.generateKeyPair();
  const message = utf8("keys");
  const sig = node.sign(key.privateKey, message);
  const x = key.publicKey.subarray(1, 33);
  const y = key.publicKey.subarray(33);
  const p = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
  const malformed: Uint8Array[] = [
    new Uint8Array(),
    key.publicKey.subarray(0, 64),
    concatBytes(key.publicKey, Uint8Array.of(0)),
    concatBytes(Uint8Array.of(2 + ((y[31] as number) & 1)), x), // compressed form of the same key
    concatBytes(Uint8Array.of(0x06), x, y), // hybrid form
    concatBytes(Uint8Array.of(0x04), x, flipBit(y, 0)), // off the curve
    new Uint8Array(65).fill(4, 0, 1), // (0, 0)
    concatBytes(Uint8Array.of(0x04), scalarBytes(p), y), // x >= p
    concatBytes(Uint8Array.of(0x04), x, scalarBytes(p + 1n)), // y >= p
  ];
  eachBackend("sm2", (suite, backend) => {
    assert.equal(suite.verify(key.publicKey, message, sig), true);
    for (const bad of malformed) {
      throwsCode(() => suite.checkPublicKey(bad), "BAD_KEY");
      assert.equal(suite.verify(bad, message, sig), false, `${backend} ${toHex(bad).slice(0, 8)}`);
    }
  });
});

test("sm2: private keys must be 32 bytes in [1, n-2]", () => {
  eachBackend("sm2", (suite) => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), scalarBytes(0n), scalarBytes(SM2_N - 1n), scalarBytes(SM2_N)]) {
      throwsCode(() => suite.keyPairFromPrivate(bad), "BAD_KEY");
      throwsCode(() => suite.sign(bad, utf8("x")), "BAD_KEY");
    }
    const edge = suite.keyPairFromPrivate(scalarBytes(SM2_N - 2n));
    assert.equal(suite.verify(edge.publicKey, utf8("x"), suite.sign(edge.privateKey, utf8("x"))), true);
  });
});

// ---------------------------------------------------------------- both suites

test("wrong-suite keys and signatures are refused", () => {
  eachBackend("ed25519", (ed, backend) => {
    const sm = backend === "node" ? getSuite("sm2") : webSuites.sm2;
    const edKey = ed.generateKeyPair();
    const smKey = sm.generateKeyPair();
    const message = utf8("which suite?");
    const edSig = ed.sign(edKey.privateKey, message);
    const smSig = sm.sign(smKey.privateKey, message);
    assert.equal(sm.verify(smKey.publicKey, message, edSig), false, "ed25519 signature under an sm2 key");
    assert.equal(sm.verify(edKey.publicKey, message, edSig), false, "ed25519 key and signature on sm2");
    assert.equal(ed.verify(edKey.publicKey, message, smSig), false, "sm2 signature under an ed25519 key");
    assert.equal(ed.verify(smKey.publicKey, message, smSig), false, "sm2 key and signature on ed25519");
    throwsCode(() => sm.checkPublicKey(edKey.publicKey), "BAD_KEY");
    throwsCode(() => ed.checkPublicKey(smKey.publicKey), "BAD_KEY");
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
      throwsCode(() => ed.keyPairFromPrivate(bad), "BAD_KEY");
      throwsCode(() => ed.sign(bad, message), "BAD_KEY");
      throwsCode(() => ed.checkPublicKey(bad), "BAD_KEY");
    }
  });
});

test("tampered message, signature or key fails; verify never throws on garbage", () => {
  for (const id of SUITE_IDS) {
    eachBackend(id, (suite, backend) => {
      const key = suite.generateKeyPair();
      const other = suite.generateKeyPair();
      const message = utf8("pay 5");
      const sig = suite.sign(key.privateKey, message);
      const label = `${id} ${backend}`;
      assert.equal(suite.verify(key.publicKey, message, sig), true, label);
      assert.equal(suite.verify(key.publicKey, utf8("pay 6"), sig), false, label);
      assert.equal(suite.verify(key.publicKey, concatBytes(message, Uint8Array.of(0)), sig), false, label);
      assert.equal(suite.verify(other.publicKey, message, sig), false, label);
      for (const bit of sampleBits(sig.length)) assert.equal(suite.verify(key.publicKey, message, flipBit(sig, bit)), false, label);
      for (const bit of sampleBits(key.publicKey.length)) {
        assert.equal(suite.verify(flipBit(key.publicKey, bit), message, sig), false, label);
      }
      for (const junk of [new Uint8Array(), sig.subarray(0, 63), concatBytes(sig, Uint8Array.of(0)), new Uint8Array(64)]) {
        assert.equal(suite.verify(key.publicKey, message, junk), false, label);
        assert.equal(suite.verify(junk, message, sig), false, label);
      }
    });
  }
});

test("key pairs copy the private key, and a signing-key cache never outlives a change of the key bytes", () => {
  for (const id of SUITE_IDS) {
    eachBackend(id, (suite, backend) => {
      const a = suite.generateKeyPair();
      const b = suite.generateKeyPair();
      const source = a.privateKey.slice();
      const fromSource = suite.keyPairFromPrivate(source);
      source.fill(7);
      assert.equal(toHex(fromSource.privateKey), toHex(a.privateKey), `${id} ${backend}: keyPairFromPrivate copies`);
      const reused = a.privateKey.slice();
      const message = utf8("cache");
      assert.equal(suite.verify(a.publicKey, message, suite.sign(reused, message)), true);
      reused.set(b.privateKey);
      assert.equal(suite.verify(b.publicKey, message, suite.sign(reused, message)), true, `${id} ${backend}: signs with the new key`);
    });
  }
});

test("property: random messages round-trip on every suite and backend, and verify on the other backend", () => {
  for (const id of SUITE_IDS) {
    const node = getSuite(id);
    const web = webSuites[id];
    const key = node.generateKeyPair();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (message) => {
        const sigNode = node.sign(key.privateKey, message);
        const sigWeb = web.sign(key.privateKey, message);
        assert.equal(node.verify(key.publicKey, message, sigNode), true);
        assert.equal(web.verify(key.publicKey, message, sigNode), true);
        assert.equal(node.verify(key.publicKey, message, sigWeb), true);
        assert.equal(web.verify(key.publicKey, message, sigWeb), true);
      }),
      { numRuns: id === "sm2" ? 25 : 100 },
    );
  }
});
