/**
 * Crypto primitives for Node.js: OpenSSL through node:crypto, an order of magnitude faster than pure
 * JavaScript for Ed25519 and SM3 (docs/adr/002-crypto-suites.md). backend-web.ts exports the same functions.
 * Callers (ed25519.ts, sm2.ts) validate lengths and encodings first; these functions only compute.
 */
import * as nodeCrypto from "node:crypto";
import { equalBytes } from "../bytes.js";
import { Lru } from "./lru.js";

export const name = "node";

// RFC 8410 wrappers around a raw Ed25519 seed / public key, the only raw-key input OpenSSL accepts.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const PUBLIC_KEY_CACHE_SIZE = 4096;
const publicKeys = new Lru<string, nodeCrypto.KeyObject>(PUBLIC_KEY_CACHE_SIZE);

// Keyed by the caller's seed array, so no copy of a secret outlives the caller's own; importing a seed
// derives its public key (~0.45 ms), which would make signing ~10x slower if done per signature.
const signingKeys = new WeakMap<Uint8Array, { readonly seed: Uint8Array; readonly key: nodeCrypto.KeyObject }>();

// crypto.hash (Node >= 20.12) skips the Hash object and is ~1.5x faster on the small inputs Tally hashes.
const oneShotHash: ((algorithm: string, data: Uint8Array, encoding: "buffer") => Buffer) | undefined =
  typeof nodeCrypto.hash === "function" ? nodeCrypto.hash : undefined;

/** A plain, unshared Uint8Array: Buffers may be views into a shared pool and encode differently. */
function own(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer);
}

function digest(algorithm: "sha256" | "sm3", data: Uint8Array): Uint8Array {
  if (oneShotHash) return own(oneShotHash(algorithm, data, "buffer"));
  return own(nodeCrypto.createHash(algorithm).update(data).digest());
}

export function sha256(data: Uint8Array): Uint8Array {
  return digest("sha256", data);
}

export function sm3(data: Uint8Array): Uint8Array {
  return digest("sm3", data);
}

export function randomBytes(n: number): Uint8Array {
  return own(nodeCrypto.randomBytes(n));
}

function signingKey(seed: Uint8Array): nodeCrypto.KeyObject {
  const cached = signingKeys.get(seed);
  if (cached && equalBytes(cached.seed, seed)) return cached.key;
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  try {
    const key = nodeCrypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    signingKeys.set(seed, { seed: seed.slice(), key });
    return key;
  } finally {
    der.fill(0);
  }
}

function verifyingKey(publicKey: Uint8Array): nodeCrypto.KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString("hex");
  let key = publicKeys.get(id);
  if (key === undefined) {
    key = nodeCrypto.createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: "der",
      type: "spki",
    });
    publicKeys.set(id, key);
  }
  return key;
}

export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  const spki = nodeCrypto.createPublicKey(signingKey(seed)).export({ format: "der", type: "spki" });
  return own(spki.subarray(ED25519_SPKI_PREFIX.length));
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return own(nodeCrypto.sign(null, message, signingKey(seed)));
}

/**
 * OpenSSL checks S < L and the cofactorless equation encode([S]B - [k]A) == R; it accepts small-order and
 * non-canonical A, which ed25519.ts refuses before calling this.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return nodeCrypto.verify(null, message, verifyingKey(publicKey), signature);
  } catch {
    return false;
  }
}
