/**
 * The `ed25519` suite: RFC 8032 Ed25519 signatures and SHA-256 (spec/crypto.md). Encoding and canonicality
 * rules live here, in front of the backend, so that OpenSSL (Node) and noble (browsers) accept exactly the
 * same signatures: a signature one validator accepts and another refuses would split consensus.
 */
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { equalBytes, fromHex } from "../bytes.js";
import { TallyError } from "../errors.js";
import type { CryptoSuite, KeyPair } from "./suite.js";

/** What the suite needs from a backend (backend-node.ts, backend-web.ts). */
export interface Ed25519Backend {
  sha256(data: Uint8Array): Uint8Array;
  randomBytes(n: number): Uint8Array;
  ed25519PublicFromSeed(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** Cofactorless RFC 8032 check; may assume the checks of `verify` below already passed. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

// Little-endian, as the numbers appear inside encodings: the field prime p = 2^255 - 19 and the group order L.
const FIELD_P_LE = fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
const ORDER_L_LE = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

/**
 * The eight points of small order in canonical encoding, plus the two "negative zero" encodings (x = 0 with
 * the sign bit set) that OpenSSL decodes to the same points. A key of small order verifies forged
 * signatures (with the identity key, R = [S]B signs every message), and OpenSSL does not refuse such keys.
 */
const SMALL_ORDER_KEYS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "0100000000000000000000000000000000000000000000000000000000000080",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
].map((hex) => fromHex(hex));

/** `value` < `bound`, both 32-byte little-endian; `topMask` drops bits of the last byte that are not part of the number. */
function lessThanLE(value: Uint8Array, bound: Uint8Array, topMask = 0xff): boolean {
  for (let i = 31; i >= 0; i--) {
    const v = (value[i] as number) & (i === 31 ? topMask : 0xff);
    const b = bound[i] as number;
    if (v !== b) return v < b;
  }
  return false;
}

/** RFC 8032 §5.1.3: the y coordinate (bits 0..254) must be < p; OpenSSL would reduce it silently. */
function hasCanonicalY(publicKey: Uint8Array): boolean {
  return lessThanLE(publicKey, FIELD_P_LE, 0x7f);
}

function isSmallOrderEncoding(publicKey: Uint8Array): boolean {
  return SMALL_ORDER_KEYS.some((bad) => equalBytes(bad, publicKey));
}

/** The cheap key checks `verify` repeats on every call; checkPublicKey adds the costly curve checks. */
function isAcceptableKeyEncoding(publicKey: Uint8Array): boolean {
  return publicKey.length === PUBLIC_KEY_BYTES && hasCanonicalY(publicKey) && !isSmallOrderEncoding(publicKey);
}

/** S < L, else S and S + L would both verify: a malleable signature, so a second transaction id. */
function hasCanonicalS(signature: Uint8Array): boolean {
  return lessThanLE(signature.subarray(32, 64), ORDER_L_LE);
}

function requireSeed(privateKey: Uint8Array): void {
  if (privateKey.length !== SEED_BYTES) {
    throw new TallyError("BAD_KEY", `ed25519 private key must be a ${SEED_BYTES}-byte seed`, {
      got: privateKey.length,
    });
  }
}

function badKey(reason: string): TallyError {
  return new TallyError("BAD_KEY", `ed25519 public key ${reason}`);
}

/** Full validation for keys entering chain state (genesis, registration); not on the verify hot path. */
function checkPublicKey(publicKey: Uint8Array): void {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw badKey(`must be ${PUBLIC_KEY_BYTES} bytes`);
  if (!hasCanonicalY(publicKey)) throw badKey("is not canonically encoded (y >= p)");
  if (isSmallOrderEncoding(publicKey)) throw badKey("has small order");
  let point: ReturnType<typeof noble.Point.fromBytes>;
  try {
    point = noble.Point.fromBytes(publicKey, false);
  } catch {
    throw badKey("is not a point on the curve");
  }
  // A key A + T with a small-order component T passes the cofactorless check only when [k]T = 0, so at
  // most every second honest signature under it verifies; no honest key generation produces one.
  if (!point.isTorsionFree()) throw badKey("is not in the prime-order subgroup");
}

export function createEd25519Suite(backend: Ed25519Backend): CryptoSuite {
  function keyPair(seed: Uint8Array): KeyPair {
    return { suite: "ed25519", privateKey: seed, publicKey: backend.ed25519PublicFromSeed(seed) };
  }

  return {
    id: "ed25519",
    publicKeyBytes: PUBLIC_KEY_BYTES,
    signatureBytes: SIGNATURE_BYTES,
    hash: (data) => backend.sha256(data),
    generateKeyPair: () => keyPair(backend.randomBytes(SEED_BYTES)),
    keyPairFromPrivate(privateKey) {
      requireSeed(privateKey);
      return keyPair(privateKey.slice());
    },
    sign(privateKey, message) {
      requireSeed(privateKey);
      return backend.ed25519Sign(privateKey, message);
    },
    verify(publicKey, message, signature) {
      try {
        if (signature.length !== SIGNATURE_BYTES || !hasCanonicalS(signature)) return false;
        if (!isAcceptableKeyEncoding(publicKey)) return false;
        return backend.ed25519Verify(publicKey, message, signature);
      } catch {
        return false;
      }
    },
    checkPublicKey,
  };
}
