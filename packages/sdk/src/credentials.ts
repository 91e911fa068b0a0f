/**
 * Credentials with selective disclosure from a client (spec/modules/credentials.md). The issuer builds
 * and signs a credential off chain (`issueCredential`) and records its hash (`signer.credentials.issue`);
 * the holder shows some attributes (`present`, or `client.credentials.present` with a fresh status
 * proof); a verifier checks the presentation against the genesis file (`client.credentials.verify`,
 * or `verifyPresentation` from @tally/core fully offline).
 */
import {
  buildCredential,
  CREDENTIAL_SALT_BYTES,
  type Credential,
  type CredentialInput,
  type CredentialPresentation,
  type CredentialRecord,
  credentialHashOf,
  fromHex,
  type Genesis,
  getSuite,
  type KeyPair,
  parseCredential,
  parseCredentialPresentation,
  presentCredential,
  type Value,
  type VerifiedPresentation,
  verifyPresentation,
} from "@tally/core";
import type { SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { SubmitResult } from "./types.js";

export type CredentialIssueInput = Omit<CredentialInput, "issuedAtMs"> & {
  /** Default: now. */
  readonly issuedAtMs?: number;
};

/**
 * Builds a credential and signs it with the issuer's signing key (the key registered with
 * `registerIssuerKey` under `keyId`). Every attribute gets 32 fresh random bytes of salt, so a hidden
 * value cannot be found by hashing guesses. Nothing is sent: record it with `signer.credentials.issue`.
 */
export function issueCredential(issuerKey: KeyPair, input: CredentialIssueInput): Credential {
  const suite = getSuite(issuerKey.suite);
  const salt = () => globalThis.crypto.getRandomValues(new Uint8Array(CREDENTIAL_SALT_BYTES));
  return buildCredential(suite, issuerKey.privateKey, { ...input, issuedAtMs: input.issuedAtMs ?? Date.now() }, salt);
}

/**
 * The presentation of `credential` that opens only the attributes `names`; the others are shown as
 * their hashes. `status` is a status proof (hex) to embed, e.g. from `client.credentials.statusProof`.
 */
export function present(credential: Credential, names: readonly string[], status: string | null = null): CredentialPresentation {
  const c = parseCredential(credential);
  return presentCredential(getSuite(c.crypto), c, names, status);
}

/** Checks a credential document (shape and hash) as received from an issuer; CREDENTIAL_INVALID otherwise. */
export function checkCredential(json: unknown): Credential {
  const c = parseCredential(json);
  credentialHashOf(getSuite(c.crypto), c);
  return c;
}

/** The ledger's record of a credential, as the `credential` query answers (hashes as "0x" hex). */
export type CredentialRecordView = Omit<CredentialRecord, "credentialHash"> & { readonly credentialHash: string };

export interface IssuerKeyView {
  readonly issuer: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly status: "active" | "retired";
  readonly registeredHeight: number;
  readonly registeredAtMs: number;
  readonly retiredHeight: number | null;
  readonly retiredAtMs: number | null;
}

export interface CredentialVerifyOptions {
  /** The chain's genesis: the only thing trusted. */
  readonly genesis: Genesis;
  /** The time expiry is judged at; default now. */
  readonly nowMs?: number;
  /**
   * "fresh" (default): fetch a status proof from the node now, so a revocation up to its latest block
   * is seen (the node is still not trusted: the proof is checked against the genesis). "embedded":
   * use the proof inside the presentation (offline), which may predate a revocation.
   */
  readonly proof?: "fresh" | "embedded";
  /** Refuse a status proof older than this (ms) at `nowMs`. */
  readonly maxProofAgeMs?: number;
}

/** Reads of the credentials module and status proofs from a node. */
export class CredentialReads {
  constructor(private readonly client: TallyClient) {}

  /** The ledger record of (issuer, id); NO_SUCH_CREDENTIAL if none. */
  async record(issuer: string, id: string): Promise<CredentialRecordView> {
    return (await this.client.query<CredentialRecordView>("credentials", "credential", { issuer, id })).value;
  }

  async issuerKeys(issuer: string): Promise<IssuerKeyView[]> {
    return (await this.client.query<{ keys: IssuerKeyView[] }>("credentials", "issuerKeys", { issuer })).value.keys;
  }

  /** A status proof of (issuer, id) at the node's latest block, as hex (spec/modules/credentials.md §status proof). */
  async statusProof(issuer: string, id: string, keyId?: string): Promise<{ height: number; proof: string }> {
    return this.client.credentialStatus(issuer, id, keyId);
  }

  /** `present` with a fresh status proof embedded, so the verifier can check it offline. */
  async present(credential: Credential, names: readonly string[]): Promise<CredentialPresentation> {
    const { proof } = await this.statusProof(credential.issuer, credential.id, credential.keyId);
    return present(credential, names, proof);
  }

  /**
   * Verifies a presentation against the genesis (see CredentialVerifyOptions for where the status
   * proof comes from). Resolves with what it proves; rejects with CREDENTIAL_INVALID, BAD_PROOF,
   * NO_SUCH_CREDENTIAL, NO_SUCH_ISSUER_KEY, CREDENTIAL_REVOKED or CREDENTIAL_EXPIRED.
   */
  async verify(presentation: unknown, options: CredentialVerifyOptions): Promise<VerifiedPresentation> {
    const nowMs = options.nowMs ?? Date.now();
    const base = { nowMs, ...(options.maxProofAgeMs === undefined ? {} : { maxProofAgeMs: options.maxProofAgeMs }) };
    if (options.proof === "embedded") return verifyPresentation(options.genesis, presentation, base);
    // Shape first, so that a malformed presentation is refused before asking the node anything.
    const p = parseCredentialPresentation(presentation);
    const { proof } = await this.statusProof(p.issuer, p.id, p.keyId);
    return verifyPresentation(options.genesis, presentation, { ...base, statusProof: fromHex(proof) });
  }
}

/** Calls of the credentials module signed by one account. They wait for commit unless `wait: false`. */
export class CredentialCalls {
  constructor(private readonly signer: AccountSigner) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("credentials", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Registers a signing key of the signer's organisation under `keyId` (needs org-admin). */
  registerIssuerKey(keyId: string, publicKey: Uint8Array, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("register-issuer-key", { keyId, publicKey }, options);
  }

  /** Retires a signing key: no new credential may name it; credentials already recorded stay valid. */
  retireIssuerKey(keyId: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("retire-issuer-key", { keyId }, options);
  }

  /** Records a credential built by `issueCredential` (only its id, schema, hash, key and expiry go on chain). */
  issue(credential: Credential, options: SubmitOptions = {}): Promise<SubmitResult> {
    const c = checkCredential(credential);
    const args: Record<string, Value> = { id: c.id, schema: c.schema, credentialHash: fromHex(c.credentialHash, 32), keyId: c.keyId };
    if (c.expiresAtMs !== null) args.expiresAtMs = c.expiresAtMs;
    return this.call("issue", args, options);
  }

  /** Revokes a credential of the signer's organisation. */
  revoke(id: string, reason: string, options: SubmitOptions & { issuer?: string } = {}): Promise<SubmitResult> {
    return this.call("revoke", { id, reason, ...(options.issuer === undefined ? {} : { issuer: options.issuer }) }, options);
  }
}
