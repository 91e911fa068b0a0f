/**
 * A crypto suite is chosen once per chain in genesis (spec/crypto.md). Every hash and signature in a
 * chain uses its suite; keys and signatures of the other suite are refused.
 */
export type SuiteId = "ed25519" | "sm2";

export const SUITE_IDS: readonly SuiteId[] = ["ed25519", "sm2"];

export interface KeyPair {
  readonly suite: SuiteId;
  /** ed25519: 32-byte seed; sm2: 32-byte scalar. */
  readonly privateKey: Uint8Array;
  /** ed25519: 32 bytes; sm2: 65 bytes, uncompressed SEC1 (0x04 || x || y). */
  readonly publicKey: Uint8Array;
}

export interface CryptoSuite {
  readonly id: SuiteId;
  /** ed25519 suite: SHA-256; sm2 suite: SM3. Output is 32 bytes. */
  hash(data: Uint8Array): Uint8Array;
  readonly publicKeyBytes: number;
  readonly signatureBytes: number;
  generateKeyPair(): KeyPair;
  keyPairFromPrivate(privateKey: Uint8Array): KeyPair;
  /** ed25519: RFC 8032 (deterministic); sm2: GB/T 32918.2 with user id "1234567812345678", r || s (64 bytes). */
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Never throws for malformed keys or signatures: returns false. Rejects non-canonical signatures. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Throws TallyError BAD_KEY unless `publicKey` is a valid, canonically encoded point of this suite. */
  checkPublicKey(publicKey: Uint8Array): void;
}
