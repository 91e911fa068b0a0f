/**
 * The authentication exchange that runs inside a fresh TLS 1.3 session (spec/p2p.md §hello).
 *
 * TLS authenticates nothing by itself here: certificates are self-signed Ed25519 and chain keys may be
 * SM2, which Node's TLS cannot use. So each side sends one hello whose signature, made with its chain
 * key, covers the session's exported keying material (RFC 5705 / RFC 8446 §7.5). A man in the middle
 * that terminates TLS has a different exporter value on each of its two sessions, so no hello it
 * relays verifies (channel binding).
 */
import type { TLSSocket } from "node:tls";
import { type CryptoSuite, decode, encode, hasExactKeys, isValueMap, TallyError, utf8, type Value } from "@tally/core";

export const P2P_PROTOCOL_VERSION = 1;
/** ALPN protocol id both ends offer; a TLS peer that does not speak it fails the TLS handshake. */
export const P2P_ALPN = "tally-p2p/1";
/** Domain separation tag of the signed hello bytes. */
export const P2P_AUTH_DOMAIN = "tally/p2p-auth/v1";
export const EKM_LABEL = "EXPORTER-tally-p2p";
export const EKM_BYTES = 32;

/** The side of the TCP connection: the dialer opened it, the listener accepted it. */
export type Role = "dialer" | "listener";

export interface Hello {
  readonly version: number;
  readonly chainId: string;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** Exporter value of this TLS session; the context is the chain id, so sessions of different chains never share one. */
export function exportedKeyingMaterial(socket: TLSSocket, chainId: string): Uint8Array {
  return new Uint8Array(socket.exportKeyingMaterial(EKM_BYTES, EKM_LABEL, Buffer.from(utf8(chainId))));
}

/** What a hello signs: canonical CBOR of [domain, chainId, role of the signer, exporter value, signer's public key]. */
export function authSignBytes(chainId: string, role: Role, ekm: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return encode([P2P_AUTH_DOMAIN, chainId, role, ekm, publicKey]);
}

export function makeHello(
  suite: CryptoSuite,
  key: { readonly privateKey: Uint8Array; readonly publicKey: Uint8Array },
  chainId: string,
  role: Role,
  ekm: Uint8Array,
): Hello {
  const signature = suite.sign(key.privateKey, authSignBytes(chainId, role, ekm, key.publicKey));
  return { version: P2P_PROTOCOL_VERSION, chainId, publicKey: key.publicKey, signature };
}

export function encodeHello(hello: Hello): Uint8Array {
  return encode({ version: hello.version, chainId: hello.chainId, publicKey: hello.publicKey, signature: hello.signature });
}

/** Strict shape check of a received hello; throws TallyError BAD_ENCODING. Does not verify anything. */
export function decodeHello(bytes: Uint8Array, maxBytes: number): Hello {
  const value: Value = decode(bytes, maxBytes);
  if (!isValueMap(value) || !hasExactKeys(value, ["version", "chainId", "publicKey", "signature"])) {
    throw new TallyError("BAD_ENCODING", "hello must be a map {version, chainId, publicKey, signature}");
  }
  const { version, chainId, publicKey, signature } = value;
  if (version !== P2P_PROTOCOL_VERSION) throw new TallyError("BAD_ENCODING", "unsupported p2p protocol version");
  if (typeof chainId !== "string" || !(publicKey instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new TallyError("BAD_ENCODING", "hello field of the wrong type");
  }
  return { version, chainId, publicKey, signature };
}

/** Whether the peer's hello was signed by its claimed key for this very session, chain and role. */
export function verifyHello(suite: CryptoSuite, hello: Hello, chainId: string, peerRole: Role, ekm: Uint8Array): boolean {
  return suite.verify(hello.publicKey, authSignBytes(chainId, peerRole, ekm, hello.publicKey), hello.signature);
}
