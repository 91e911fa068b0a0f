/**
 * Credentials (spec/modules/credentials.md): an organisation registers issuer signing keys; its
 * accounts with the `credential-issuer` (or `org-admin`) role record credentials it signed off chain.
 * The ledger keeps a credential's id, key, schema, hash, expiry and status — never its attributes —
 * so that a verifier can check a holder's presentation against a status proof (core/src/credentials.ts).
 */
import {
  CREDENTIAL_ID_RE,
  CREDENTIAL_ISSUER_KEYS_MAX,
  CREDENTIAL_KEY_ID_RE,
  CREDENTIAL_REVOKE_REASON_MAX,
  CREDENTIAL_SCHEMA_MAX,
  type CredentialIssuerKeyRecord,
  type CredentialIssuerRecord,
  type CredentialRecord,
  credentialIssuerKey,
  credentialIssuerKeyKey,
  credentialIssuerKeysPrefix,
  credentialKey,
  decodeCredentialIssuerKeyRecord,
  decodeCredentialIssuerRecord,
  decodeCredentialRecord,
  encodeCredentialIssuerKeyRecord,
  encodeCredentialIssuerRecord,
  encodeCredentialRecord,
  ORG_ID_RE,
  ROLES,
  TallyError,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type ReadContext } from "../execution/module.js";
import { s } from "../execution/schema.js";
import { readAccount } from "./accounts.js";

type Reader = Pick<ReadContext, "get">;

const ISSUING_ROLES = [ROLES.credentialIssuer, ROLES.orgAdmin];

const org = s.string({ maxLength: 64, pattern: ORG_ID_RE });
const keyId = s.string({ maxLength: 32, pattern: CREDENTIAL_KEY_ID_RE });
const id = s.string({ maxLength: 64, pattern: CREDENTIAL_ID_RE });

const registerKeyArgs = s.object({ keyId, publicKey: s.bytes() });
const retireKeyArgs = s.object({ keyId });
const issueArgs = s.object({
  id,
  schema: s.string({ maxLength: CREDENTIAL_SCHEMA_MAX }),
  credentialHash: s.bytes(32),
  keyId,
  expiresAtMs: s.optional(s.uint()),
});
const revokeArgs = s.object({ issuer: s.optional(org), id, reason: s.string({ maxLength: CREDENTIAL_REVOKE_REASON_MAX }) });

function readIssuer(ctx: Reader, issuer: string): CredentialIssuerRecord | null {
  const bytes = ctx.get(credentialIssuerKey(issuer));
  return bytes === null ? null : decodeCredentialIssuerRecord(bytes);
}

function readKey(ctx: Reader, issuer: string, kid: string): CredentialIssuerKeyRecord | null {
  const bytes = ctx.get(credentialIssuerKeyKey(issuer, kid));
  return bytes === null ? null : decodeCredentialIssuerKeyRecord(bytes);
}

function readCredential(ctx: Reader, issuer: string, cid: string): CredentialRecord {
  const bytes = ctx.get(credentialKey(issuer, cid));
  if (bytes === null) throw new TallyError("NO_SUCH_CREDENTIAL", undefined, { issuer, id: cid });
  return decodeCredentialRecord(bytes);
}

/** The key an issuance names must exist and be active; an org that never registered one is no issuer at all. */
function requireActiveKey(ctx: Reader, issuer: string, kid: string): CredentialIssuerKeyRecord {
  if (readIssuer(ctx, issuer) === null) throw new TallyError("NO_SUCH_ISSUER", undefined, { issuer });
  const key = readKey(ctx, issuer, kid);
  if (key === null) throw new TallyError("NO_SUCH_ISSUER_KEY", undefined, { issuer, keyId: kid, status: "unregistered" });
  if (key.status !== "active")
    throw new TallyError("NO_SUCH_ISSUER_KEY", "the issuer key is retired", { issuer, keyId: kid, status: key.status });
  return key;
}

function refuseIfKeyExists(ctx: Reader, issuer: string, kid: string): void {
  if (readKey(ctx, issuer, kid) !== null) throw new TallyError("ISSUER_KEY_EXISTS", undefined, { issuer, keyId: kid });
}

function refuseIfCredentialExists(ctx: Reader, issuer: string, cid: string): void {
  if (ctx.get(credentialKey(issuer, cid)) !== null) throw new TallyError("CREDENTIAL_EXISTS", undefined, { issuer, id: cid });
}

/** The caller's org, from its account record (the precheck context carries only the address). */
function orgOfCaller(ctx: ReadContext): string | null {
  return readAccount(ctx.get, ctx.caller)?.org ?? null;
}

function registerKey(ctx: CallContext, args: { keyId: string; publicKey: Uint8Array }) {
  const issuer = ctx.callerOrg;
  ctx.suite.checkPublicKey(args.publicKey);
  refuseIfKeyExists(ctx, issuer, args.keyId);
  const record = readIssuer(ctx, issuer) ?? { issuer, keys: 0 };
  if (record.keys >= CREDENTIAL_ISSUER_KEYS_MAX) {
    throw new TallyError("TOO_LARGE", `an issuer registers at most ${CREDENTIAL_ISSUER_KEYS_MAX} keys`, {
      issuer,
      max: CREDENTIAL_ISSUER_KEYS_MAX,
    });
  }
  ctx.set(credentialIssuerKey(issuer), encodeCredentialIssuerRecord({ issuer, keys: record.keys + 1 }));
  const key: CredentialIssuerKeyRecord = {
    issuer,
    keyId: args.keyId,
    publicKey: args.publicKey,
    status: "active",
    registeredHeight: ctx.height,
    registeredAtMs: ctx.timeMs,
    retiredHeight: null,
    retiredAtMs: null,
  };
  ctx.set(credentialIssuerKeyKey(issuer, args.keyId), encodeCredentialIssuerKeyRecord(key));
  ctx.emit("issuer-key-registered", { issuer, keyId: args.keyId, publicKey: args.publicKey, by: ctx.caller });
  return { issuer, keyId: args.keyId };
}

function retireKey(ctx: CallContext, args: { keyId: string }) {
  const issuer = ctx.callerOrg;
  const key = readKey(ctx, issuer, args.keyId);
  if (key === null) throw new TallyError("NO_SUCH_ISSUER_KEY", undefined, { issuer, keyId: args.keyId, status: "unregistered" });
  if (key.status === "retired")
    throw new TallyError("NO_SUCH_ISSUER_KEY", "the issuer key is already retired", { issuer, keyId: args.keyId, status: "retired" });
  ctx.set(
    credentialIssuerKeyKey(issuer, args.keyId),
    encodeCredentialIssuerKeyRecord({ ...key, status: "retired", retiredHeight: ctx.height, retiredAtMs: ctx.timeMs }),
  );
  ctx.emit("issuer-key-retired", { issuer, keyId: args.keyId, by: ctx.caller });
  return { issuer, keyId: args.keyId, status: "retired" };
}

type IssueArgs = { id: string; schema: string; credentialHash: Uint8Array; keyId: string; expiresAtMs: number | null };

function issue(ctx: CallContext, args: IssueArgs) {
  const issuer = ctx.callerOrg;
  requireActiveKey(ctx, issuer, args.keyId);
  refuseIfCredentialExists(ctx, issuer, args.id);
  if (args.expiresAtMs !== null && args.expiresAtMs <= ctx.timeMs) {
    throw new TallyError("CREDENTIAL_EXPIRED", "the credential expires before this block", {
      expiresAtMs: args.expiresAtMs,
      timeMs: ctx.timeMs,
    });
  }
  const record: CredentialRecord = {
    id: args.id,
    issuer,
    keyId: args.keyId,
    schema: args.schema,
    credentialHash: args.credentialHash,
    status: "valid",
    issuedBy: ctx.caller,
    issuedHeight: ctx.height,
    issuedAtMs: ctx.timeMs,
    expiresAtMs: args.expiresAtMs,
    revokedBy: null,
    revokedHeight: null,
    revokedAtMs: null,
    reason: null,
  };
  ctx.set(credentialKey(issuer, args.id), encodeCredentialRecord(record));
  ctx.emit("issued", { issuer, id: args.id, keyId: args.keyId, schema: args.schema, credentialHash: args.credentialHash });
  return { issuer, id: args.id, credentialHash: args.credentialHash };
}

function revoke(ctx: CallContext, args: { issuer: string | null; id: string; reason: string }) {
  const issuer = args.issuer ?? ctx.callerOrg;
  if (issuer !== ctx.callerOrg) {
    throw new TallyError("FORBIDDEN", "only the issuing organisation may revoke its credentials", { issuer, org: ctx.callerOrg });
  }
  const record = readCredential(ctx, issuer, args.id);
  if (record.status === "revoked") {
    throw new TallyError("CREDENTIAL_REVOKED", "the credential is already revoked", {
      issuer,
      id: args.id,
      revokedHeight: record.revokedHeight,
    });
  }
  const revoked: CredentialRecord = {
    ...record,
    status: "revoked",
    revokedBy: ctx.caller,
    revokedHeight: ctx.height,
    revokedAtMs: ctx.timeMs,
    reason: args.reason,
  };
  ctx.set(credentialKey(issuer, args.id), encodeCredentialRecord(revoked));
  ctx.emit("revoked", { issuer, id: args.id, reason: args.reason, by: ctx.caller });
  return { issuer, id: args.id, status: "revoked" };
}

function keyJson(k: CredentialIssuerKeyRecord) {
  return { ...k };
}

function credentialJson(r: CredentialRecord) {
  return { ...r };
}

export const credentialsModule: Module = {
  name: "credentials",
  queries: {
    credential: defineQuery({
      description: "A credential's ledger record: issuer, key, schema, hash, status, issuance and expiry (never its attributes).",
      args: s.object({ issuer: org, id }),
      run: (ctx, args) => credentialJson(readCredential(ctx, args.issuer, args.id)),
    }),
    issuerKeys: defineQuery({
      description: "Every signing key an organisation registered, active and retired, in key-id order.",
      args: s.object({ issuer: org }),
      run(ctx, args) {
        const rows = ctx.scan(credentialIssuerKeysPrefix(args.issuer), CREDENTIAL_ISSUER_KEYS_MAX);
        return { issuer: args.issuer, keys: rows.map(([, value]) => keyJson(decodeCredentialIssuerKeyRecord(value))) };
      },
    }),
  },
  methods: {
    "register-issuer-key": defineMethod({
      description: "Register a signing key of the caller's organisation (org-admin) under a new key id.",
      args: registerKeyArgs,
      roles: [ROLES.orgAdmin],
      run: registerKey,
    }),
    "retire-issuer-key": defineMethod({
      description: "Retire a signing key of the caller's organisation (org-admin): no new credential may name it.",
      args: retireKeyArgs,
      roles: [ROLES.orgAdmin],
      run: retireKey,
    }),
    issue: defineMethod({
      description: "Record a credential the caller's organisation signed off chain: its id, schema, hash, key and expiry.",
      args: issueArgs,
      roles: ISSUING_ROLES,
      precheck(ctx, args) {
        const issuer = orgOfCaller(ctx);
        if (issuer === null) return;
        requireActiveKey(ctx, issuer, args.keyId);
        refuseIfCredentialExists(ctx, issuer, args.id);
      },
      run: issue,
    }),
    revoke: defineMethod({
      description: "Revoke a credential of the caller's organisation, with a reason.",
      args: revokeArgs,
      roles: ISSUING_ROLES,
      run: revoke,
    }),
  },
};
