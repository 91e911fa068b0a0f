/**
 * The TLS key pair of a node (spec/p2p.md §tls). It is not the chain key: chain keys may be SM2,
 * which Node's TLS cannot use, and TLS only has to give an encrypted channel whose exporter value the
 * hello then binds to the chain key. Node cannot create X.509 certificates, so `@peculiar/x509` makes
 * a self-signed Ed25519 one over node:crypto's WebCrypto.
 */
import "reflect-metadata";
import { createHash, createPrivateKey, webcrypto, type X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as Crypto);

export interface TlsIdentity {
  /** PKCS#8 PEM of the Ed25519 private key. */
  readonly keyPem: string;
  /** PEM of the self-signed certificate. */
  readonly certPem: string;
}

const VALIDITY_MS = 100 * 365 * 24 * 3600 * 1000;

/** A fresh Ed25519 key and a self-signed certificate for it (validity is not checked by peers). */
export async function createTlsIdentity(): Promise<TlsIdentity> {
  const algorithm = { name: "Ed25519" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const serial = new Uint8Array(16);
  webcrypto.getRandomValues(serial);
  serial[0] = (serial[0] as number) & 0x7f; // a positive INTEGER
  const notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(serial).toString("hex"),
    name: "CN=tally-p2p",
    notBefore,
    notAfter: new Date(notBefore.getTime() + VALIDITY_MS),
    keys,
    signingAlgorithm: algorithm,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ type: "pkcs8", format: "pem" }).toString();
  return { keyPem, certPem: cert.toString("pem") };
}

/** SHA-256 of a certificate's DER, as lowercase hex (for logs). */
export function certFingerprint(cert: X509Certificate): string {
  return createHash("sha256").update(cert.raw).digest("hex");
}
