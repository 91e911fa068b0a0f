/**
 * Crypto primitives in pure JavaScript for browsers and other non-Node runtimes: @noble/curves and
 * @noble/hashes for Ed25519 and SHA-256, sm-crypto-v2 for SM3. Same exports as backend-node.ts, same results.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { sha256 as nobleSha256, sha512 } from "@noble/hashes/sha2.js";
import { sm3 as smSm3 } from "sm-crypto-v2";
import { concatBytes, equalBytes, fromHex } from "../bytes.js";

export const name = "web";

const { Point } = ed25519;
const ORDER_L = Point.Fn.ORDER;
// crypto.getRandomValues refuses requests above 64 KiB.
const MAX_RANDOM_CHUNK = 65536;

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function sm3(data: Uint8Array): Uint8Array {
  return fromHex(smSm3(data), 32);
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let offset = 0; offset < n; offset += MAX_RANDOM_CHUNK) {
    crypto.getRandomValues(out.subarray(offset, Math.min(n, offset + MAX_RANDOM_CHUNK)));
  }
  return out;
}

export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

/**
 * The cofactorless check encode([S]B - [k]A) == R, exactly what OpenSSL (backend-node.ts) computes. noble's
 * own verify uses the cofactored equation, which also accepts R with a small-order component: a signature
 * browsers would accept and validators refuse. RFC 8032 §5.1.7 allows either; Tally pins this one.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const encodedR = signature.subarray(0, 32);
    const s = bytesToNumberLE(signature.subarray(32, 64));
    if (s >= ORDER_L) return false;
    const a = Point.fromBytes(publicKey, false);
    const k = bytesToNumberLE(sha512(concatBytes(encodedR, publicKey, message))) % ORDER_L;
    const r = Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k));
    return equalBytes(r.toBytes(), encodedR);
  } catch {
    return false;
  }
}
