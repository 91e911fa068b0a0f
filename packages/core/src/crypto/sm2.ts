/**
 * The `sm2` suite: SM2 signatures per GB/T 32918.2 on the sm2p256v1 curve with the default user id, and SM3
 * (spec/crypto.md). sm-crypto-v2 does the curve arithmetic in both backends; the backend only supplies SM3
 * and randomness. Every range and encoding check is done here rather than left to sm-crypto-v2, which
 * throws on some malformed inputs and accepts compressed keys.
 */
import { sm2 as smSm2 } from "sm-crypto-v2";
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from "../bytes.js";
import { TallyError } from "../errors.js";
import { Lru } from "./lru.js";
import type { CryptoSuite, KeyPair } from "./suite.js";

/** What the suite needs from a backend (backend-node.ts, backend-web.ts). */
export interface Sm2Backend {
  sm3(data: Uint8Array): Uint8Array;
  randomBytes(n: number): Uint8Array;
}

/**
 * The default user id of GM/T 0009-2012 (GB/T 35276-2017), hashed into Z_A. The OpenSSL CLI uses it only when
 * given `-pkeyopt distid:1234567812345678`; Node's built-in SM2 cannot use it at all.
 */
export const SM2_DEFAULT_USER_ID = "1234567812345678";

// sm2p256v1, GB/T 32918.5.
const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;

const SCALAR_BYTES = 32;
const PUBLIC_KEY_BYTES = 65;
const SIGNATURE_BYTES = 64;

// Parsed keys are cheap (Z_A and a use count); precomputed points are ~135 KB each, so far fewer are kept.
const KEY_CACHE_SIZE = 4096;
const PRECOMPUTED_CACHE_SIZE = 256;
// Window 4: precomputing costs ~1.6 plain verifications and makes later ones ~4.5x faster; window 8 is
// another 25% faster but costs 12 verifications and 5x the memory, which a busy key cache cannot afford.
const PRECOMPUTE_WINDOW = 4;
// A key's first verification runs unprecomputed: most account keys are seen once (registration) or rarely.
const PRECOMPUTE_AFTER_USES = 2;

type PrecomputedPoint = ReturnType<typeof smSm2.precomputePublicKey>;

interface VerifyingKey {
  readonly hex: string;
  readonly za: Uint8Array;
  uses: number;
}

interface SigningKey {
  readonly d: Uint8Array;
  readonly dHex: string;
  readonly publicKey: Uint8Array;
  readonly za: Uint8Array;
}

function bigIntOf(bytes: Uint8Array): bigint {
  return BigInt(`0x${toHex(bytes)}`);
}

function bytes32(value: bigint): Uint8Array {
  return fromHex(value.toString(16).padStart(64, "0"), 32);
}

function mod(value: bigint, m: bigint): bigint {
  const r = value % m;
  return r < 0n ? r + m : r;
}

/**
 * ENTL || ID || a || b || xG || yG: the key-independent prefix of Z_A (GB/T 32918.2 §5.5). ENTL is the id
 * length in bits, 2 bytes big-endian.
 */
const Z_PREFIX = (() => {
  const id = utf8(SM2_DEFAULT_USER_ID);
  const entl = Uint8Array.of((id.length * 8) >> 8, (id.length * 8) & 0xff);
  return concatBytes(entl, id, bytes32(A), bytes32(B), bytes32(GX), bytes32(GY));
})();

/** Why `publicKey` is not an uncompressed sm2p256v1 point, or undefined if it is one. */
function publicKeyProblem(publicKey: Uint8Array): string | undefined {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return `must be ${PUBLIC_KEY_BYTES} bytes`;
  if (publicKey[0] !== 0x04) return "must be uncompressed (0x04 || x || y)";
  const x = bigIntOf(publicKey.subarray(1, 33));
  const y = bigIntOf(publicKey.subarray(33, 65));
  if (x >= P || y >= P) return "has a coordinate >= p";
  // The cofactor is 1, so every affine point on the curve is a valid key; infinity has no 0x04 encoding.
  if (mod(y * y - (x * x * x + A * x + B), P) !== 0n) return "is not a point on the curve";
  return undefined;
}

/** Private keys d in [1, n-2]: signing divides by d + 1 (GB/T 32918.1 §6.1). */
function isValidPrivate(privateKey: Uint8Array): boolean {
  if (privateKey.length !== SCALAR_BYTES) return false;
  const d = bigIntOf(privateKey);
  return d >= 1n && d <= N - 2n;
}

/** r and s in [1, n-1] (GB/T 32918.2 §7.1, steps B1 and B2), checked before sm-crypto-v2, which throws on some. */
function isSignatureScalar(bytes: Uint8Array): boolean {
  const v = bigIntOf(bytes);
  return v >= 1n && v < N;
}

export function createSm2Suite(backend: Sm2Backend): CryptoSuite {
  const verifyingKeys = new Lru<string, VerifyingKey>(KEY_CACHE_SIZE);
  const precomputed = new Lru<string, PrecomputedPoint>(PRECOMPUTED_CACHE_SIZE);
  // Keyed by the caller's private key array, so no copy of a secret outlives the caller's own.
  const signingKeys = new WeakMap<Uint8Array, SigningKey>();

  function zA(publicKey: Uint8Array): Uint8Array {
    return backend.sm3(concatBytes(Z_PREFIX, publicKey.subarray(1)));
  }

  function verifyingKey(publicKey: Uint8Array): VerifyingKey | undefined {
    const hex = toHex(publicKey);
    let key = verifyingKeys.get(hex);
    if (key === undefined) {
      if (publicKeyProblem(publicKey) !== undefined) return undefined;
      key = { hex, za: zA(publicKey), uses: 0 };
      verifyingKeys.set(hex, key);
    }
    return key;
  }

  function curvePoint(key: VerifyingKey): string | PrecomputedPoint {
    key.uses++;
    if (key.uses < PRECOMPUTE_AFTER_USES) return key.hex;
    let point = precomputed.get(key.hex);
    if (point === undefined) {
      point = smSm2.precomputePublicKey(key.hex, PRECOMPUTE_WINDOW);
      precomputed.set(key.hex, point);
    }
    return point;
  }

  function signingKey(privateKey: Uint8Array): SigningKey {
    const cached = signingKeys.get(privateKey);
    if (cached !== undefined && equalBytes(cached.d, privateKey)) return cached;
    if (!isValidPrivate(privateKey)) {
      throw new TallyError("BAD_KEY", "sm2 private key must be 32 bytes, big-endian, in [1, n-2]", {
        got: privateKey.length,
      });
    }
    const dHex = toHex(privateKey);
    const publicKey = fromHex(smSm2.getPublicKeyFromPrivateKey(dHex), PUBLIC_KEY_BYTES);
    const key = { d: privateKey.slice(), dHex, publicKey, za: zA(publicKey) };
    signingKeys.set(privateKey, key);
    return key;
  }

  function keyPair(privateKey: Uint8Array): KeyPair {
    return { suite: "sm2", privateKey, publicKey: signingKey(privateKey).publicKey };
  }

  function randomPrivate(): Uint8Array {
    // Rejection sampling keeps d uniform; n is within 2^-32 of 2^256, so a retry almost never happens.
    for (;;) {
      const candidate = backend.randomBytes(SCALAR_BYTES);
      if (isValidPrivate(candidate)) return candidate;
    }
  }

  return {
    id: "sm2",
    publicKeyBytes: PUBLIC_KEY_BYTES,
    signatureBytes: SIGNATURE_BYTES,
    hash: (data) => backend.sm3(data),
    generateKeyPair: () => keyPair(randomPrivate()),
    keyPairFromPrivate: (privateKey) => keyPair(privateKey.slice()),
    sign(privateKey, message) {
      const key = signingKey(privateKey);
      const e = backend.sm3(concatBytes(key.za, message));
      return fromHex(smSm2.doSignature(e, key.dHex, { der: false, hash: false }), SIGNATURE_BYTES);
    },
    verify(publicKey, message, signature) {
      try {
        if (signature.length !== SIGNATURE_BYTES) return false;
        if (!isSignatureScalar(signature.subarray(0, 32)) || !isSignatureScalar(signature.subarray(32, 64))) {
          return false;
        }
        const key = verifyingKey(publicKey);
        if (key === undefined) return false;
        const e = backend.sm3(concatBytes(key.za, message));
        return smSm2.doVerifySignature(e, toHex(signature), curvePoint(key), { der: false, hash: false });
      } catch {
        return false;
      }
    },
    checkPublicKey(publicKey) {
      const problem = publicKeyProblem(publicKey);
      if (problem !== undefined) throw new TallyError("BAD_KEY", `sm2 public key ${problem}`);
    },
  };
}
