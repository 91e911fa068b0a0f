/** Key files (spec/keys.md): JSON `{ crypto, publicKey, privateKey, address }`, hex fields. No I/O here. */
import { fromHex, toHex } from "./bytes.js";
import { getSuite } from "./crypto/index.js";
import type { KeyPair, SuiteId } from "./crypto/suite.js";
import { TallyError } from "./errors.js";
import { addressOf } from "./tx.js";

export interface KeyFile {
  readonly crypto: SuiteId;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly address: string;
}

export function toKeyFile(key: KeyPair): KeyFile {
  const suite = getSuite(key.suite);
  return {
    crypto: key.suite,
    publicKey: toHex(key.publicKey),
    privateKey: toHex(key.privateKey),
    address: addressOf(suite, key.publicKey),
  };
}

/** Parses a key file and checks that its public key and address follow from its private key. */
export function fromKeyFile(json: unknown): KeyPair {
  const f = json as Partial<KeyFile> | null;
  if (f === null || typeof f !== "object" || typeof f.crypto !== "string" || typeof f.privateKey !== "string") {
    throw new TallyError("BAD_KEY", "not a key file: expected { crypto, publicKey, privateKey }");
  }
  const suite = getSuite(f.crypto);
  let key: KeyPair;
  try {
    key = suite.keyPairFromPrivate(fromHex(f.privateKey));
  } catch {
    throw new TallyError("BAD_KEY", `privateKey is not a valid ${suite.id} key`);
  }
  if (f.publicKey !== undefined && f.publicKey !== toHex(key.publicKey))
    throw new TallyError("BAD_KEY", "publicKey does not match privateKey");
  if (f.address !== undefined && f.address !== addressOf(suite, key.publicKey))
    throw new TallyError("BAD_KEY", "address does not match publicKey");
  return key;
}
