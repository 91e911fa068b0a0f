/**
 * Verifiable credentials with selective disclosure (spec/modules/credentials.md). An issuer
 * organisation signs a credential off chain; the ledger keeps only its hash and status. Each
 * attribute is committed to by a salted hash, so a holder can show some attributes and hide the
 * others, and a verifier checks the whole against the genesis file alone: the issuer's signature,
 * and the ledger record and issuer key through a status proof (a certified header plus state proofs).
 * Shared by the node's `credentials` module, the SDK and the CLI so that all agree byte for byte.
 */
import {
  type BlockHeader,
  blockHash,
  type CommitCertificate,
  commitFromValue,
  commitToValue,
  decodeHeader,
  encodeHeader,
} from "./block.js";
import { equalBytes, fromHex, toHex, utf8 } from "./bytes.js";
import { type CryptoSuite, SUITE_IDS, type SuiteId } from "./crypto/suite.js";
import { decode, encode, hasExactKeys, isValueMap, type Value } from "./encoding.js";
import { type ErrorCode, TallyError } from "./errors.js";
import { type Genesis, ORG_ID_RE } from "./genesis.js";
import { verifyCertifiedHeader } from "./receipt.js";
import { decodeSmtProof, encodeSmtProof, type SmtProof, verifySmtProof } from "./smt.js";
import { moduleKey } from "./state-keys.js";
import { type ValidatorSetHop, validatorProofFromValue, validatorProofToValue } from "./valset-proof.js";

export const CREDENTIAL_FORMAT = "tally-credential/1";
export const CREDENTIAL_PRESENTATION_FORMAT = "tally-credential-presentation/1";
export const CREDENTIAL_STATUS_FORMAT = "tally-credential-status/1";
/** Domain tags: an attribute hash can never be confused with a credential hash or anything else hashed on the chain. */
export const CREDENTIAL_ATTR_TAG = "tally/credential-attr/v1";
export const CREDENTIAL_TAG = "tally/credential/v1";

export const CREDENTIAL_KEY_ID_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
export const CREDENTIAL_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Starts with a letter, so no name is special to JavaScript objects (`__proto__`). */
export const CREDENTIAL_ATTRIBUTE_NAME_RE = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
export const CREDENTIAL_SCHEMA_MAX = 64;
export const CREDENTIAL_SUBJECT_MAX = 128;
export const CREDENTIAL_ATTRIBUTE_VALUE_MAX = 4096;
export const CREDENTIAL_ATTRIBUTES_MAX = 64;
export const CREDENTIAL_REVOKE_REASON_MAX = 256;
/** Keys an issuer may ever register (active and retired): bounds the `issuerKeys` answer. */
export const CREDENTIAL_ISSUER_KEYS_MAX = 32;
export const CREDENTIAL_SALT_BYTES = 32;

// ---- state keys -------------------------------------------------------------------------------

/** credentials/i/<issuer org> -> issuer record (exists once the org registered a key) */
export function credentialIssuerKey(issuer: string): Uint8Array {
  return moduleKey("credentials", utf8(`i/${issuer}`));
}

/** credentials/k/<issuer org>/<keyId> -> issuer key record */
export function credentialIssuerKeyKey(issuer: string, keyId: string): Uint8Array {
  return moduleKey("credentials", utf8(`k/${issuer}/${keyId}`));
}

export function credentialIssuerKeysPrefix(issuer: string): Uint8Array {
  return moduleKey("credentials", utf8(`k/${issuer}/`));
}

/** credentials/c/<issuer org>/<credential id> -> credential record (never the attributes) */
export function credentialKey(issuer: string, id: string): Uint8Array {
  return moduleKey("credentials", utf8(`c/${issuer}/${id}`));
}

// ---- ledger records ---------------------------------------------------------------------------

export interface CredentialIssuerRecord {
  readonly issuer: string;
  /** Keys ever registered (active and retired). */
  readonly keys: number;
}

export interface CredentialIssuerKeyRecord {
  readonly issuer: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly status: "active" | "retired";
  readonly registeredHeight: number;
  readonly registeredAtMs: number;
  readonly retiredHeight: number | null;
  readonly retiredAtMs: number | null;
}

export interface CredentialRecord {
  readonly id: string;
  readonly issuer: string;
  readonly keyId: string;
  readonly schema: string;
  readonly credentialHash: Uint8Array;
  readonly status: "valid" | "revoked";
  /** Address of the account that recorded the issuance. */
  readonly issuedBy: string;
  readonly issuedHeight: number;
  /** Block time of the issuance. */
  readonly issuedAtMs: number;
  readonly expiresAtMs: number | null;
  readonly revokedBy: string | null;
  readonly revokedHeight: number | null;
  readonly revokedAtMs: number | null;
  readonly reason: string | null;
}

const ISSUER_FIELDS = ["issuer", "keys"] as const;
const KEY_FIELDS = [
  "issuer",
  "keyId",
  "publicKey",
  "status",
  "registeredHeight",
  "registeredAtMs",
  "retiredHeight",
  "retiredAtMs",
] as const;
const CREDENTIAL_FIELDS = [
  "id",
  "issuer",
  "keyId",
  "schema",
  "credentialHash",
  "status",
  "issuedBy",
  "issuedHeight",
  "issuedAtMs",
  "expiresAtMs",
  "revokedBy",
  "revokedHeight",
  "revokedAtMs",
  "reason",
] as const;

const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isUintOrNull = (v: unknown): v is number | null => v === null || isUint(v);
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

function badEncoding(what: string): never {
  throw new TallyError("BAD_ENCODING", `malformed ${what}`);
}

function decodeMap(bytes: Uint8Array, fields: readonly string[], what: string): { readonly [key: string]: Value } {
  const v = decode(bytes);
  if (!isValueMap(v) || !hasExactKeys(v, fields)) badEncoding(what);
  return v;
}

export function encodeCredentialIssuerRecord(r: CredentialIssuerRecord): Uint8Array {
  return encode({ issuer: r.issuer, keys: r.keys });
}

export function decodeCredentialIssuerRecord(bytes: Uint8Array): CredentialIssuerRecord {
  const v = decodeMap(bytes, ISSUER_FIELDS, "issuer record");
  if (typeof v.issuer !== "string" || !isUint(v.keys)) badEncoding("issuer record");
  return { issuer: v.issuer, keys: v.keys };
}

export function encodeCredentialIssuerKeyRecord(r: CredentialIssuerKeyRecord): Uint8Array {
  return encode({ ...r });
}

export function decodeCredentialIssuerKeyRecord(bytes: Uint8Array): CredentialIssuerKeyRecord {
  const v = decodeMap(bytes, KEY_FIELDS, "issuer key record");
  const ok =
    typeof v.issuer === "string" &&
    typeof v.keyId === "string" &&
    v.publicKey instanceof Uint8Array &&
    (v.status === "active" || v.status === "retired") &&
    isUint(v.registeredHeight) &&
    isUint(v.registeredAtMs) &&
    isUintOrNull(v.retiredHeight) &&
    isUintOrNull(v.retiredAtMs);
  if (!ok) badEncoding("issuer key record");
  return v as unknown as CredentialIssuerKeyRecord;
}

export function encodeCredentialRecord(r: CredentialRecord): Uint8Array {
  return encode({ ...r });
}

export function decodeCredentialRecord(bytes: Uint8Array): CredentialRecord {
  const v = decodeMap(bytes, CREDENTIAL_FIELDS, "credential record");
  const ok =
    typeof v.id === "string" &&
    typeof v.issuer === "string" &&
    typeof v.keyId === "string" &&
    typeof v.schema === "string" &&
    v.credentialHash instanceof Uint8Array &&
    v.credentialHash.length === 32 &&
    (v.status === "valid" || v.status === "revoked") &&
    typeof v.issuedBy === "string" &&
    isUint(v.issuedHeight) &&
    isUint(v.issuedAtMs) &&
    isUintOrNull(v.expiresAtMs) &&
    isStringOrNull(v.revokedBy) &&
    isUintOrNull(v.revokedHeight) &&
    isUintOrNull(v.revokedAtMs) &&
    isStringOrNull(v.reason);
  if (!ok) badEncoding("credential record");
  return v as unknown as CredentialRecord;
}

// ---- hashing ----------------------------------------------------------------------------------

/** The claims the issuer signs besides the attributes. */
export interface CredentialClaims {
  readonly id: string;
  readonly issuer: string;
  readonly keyId: string;
  readonly schema: string;
  readonly subject: string | null;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number | null;
}

/** h = H(CBOR([CREDENTIAL_ATTR_TAG, name, value, salt])). */
export function credentialAttributeHash(suite: CryptoSuite, name: string, value: string, salt: Uint8Array): Uint8Array {
  return suite.hash(encode([CREDENTIAL_ATTR_TAG, name, value, salt]));
}

/**
 * H(CBOR([CREDENTIAL_TAG, chainId, id, issuer, keyId, schema, subject|null, issuedAtMs, expiresAtMs|null,
 * [[name, h], ...]])), the attribute pairs sorted by name (names are ASCII, so by code unit = by byte).
 */
export function credentialHash(
  suite: CryptoSuite,
  chainId: string,
  claims: CredentialClaims,
  attributeHashes: Readonly<Record<string, Uint8Array>>,
): Uint8Array {
  const names = Object.keys(attributeHashes).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const pairs: Value[] = names.map((name) => [name, attributeHashes[name] as Uint8Array]);
  const c = claims;
  return suite.hash(encode([CREDENTIAL_TAG, chainId, c.id, c.issuer, c.keyId, c.schema, c.subject, c.issuedAtMs, c.expiresAtMs, pairs]));
}

// ---- the off-chain documents ------------------------------------------------------------------

export interface CredentialAttributeOpening {
  readonly value: string;
  /** 32 bytes, lowercase hex. */
  readonly salt: string;
}

/** What the issuer hands the holder (JSON). */
export interface Credential extends CredentialClaims {
  readonly format: typeof CREDENTIAL_FORMAT;
  /** The chain's suite: which hash and signature algorithms the document uses (not hashed; a wrong one fails every check). */
  readonly crypto: SuiteId;
  readonly chainId: string;
  readonly attributes: Readonly<Record<string, CredentialAttributeOpening>>;
  /** Hex; recomputed and compared by every check. */
  readonly credentialHash: string;
  /** The issuer key's signature of the credential hash, hex. */
  readonly signature: string;
}

/** What the holder shows a verifier (JSON): some attributes opened, the others only as hashes. */
export interface CredentialPresentation extends CredentialClaims {
  readonly format: typeof CREDENTIAL_PRESENTATION_FORMAT;
  readonly crypto: SuiteId;
  readonly chainId: string;
  readonly disclosed: Readonly<Record<string, CredentialAttributeOpening>>;
  /** name -> attribute hash, hex. */
  readonly undisclosed: Readonly<Record<string, string>>;
  readonly credentialHash: string;
  readonly signature: string;
  /** Hex of a credential status proof (CBOR), or null: the verifier then fetches one. */
  readonly status: string | null;
}

function invalid(reason: string, meta: Record<string, string | number> = {}): never {
  throw new TallyError("CREDENTIAL_INVALID", reason, { reason, ...meta });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function requireExactKeys(v: Record<string, unknown>, keys: readonly string[], what: string): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) invalid(`unknown field ${k} in ${what}`);
  for (const k of keys) if (!Object.hasOwn(v, k)) invalid(`missing field ${k} in ${what}`);
}

function checkHex(v: unknown, bytes: number | null, field: string): string {
  if (typeof v !== "string" || !/^([0-9a-f]{2})*$/.test(v) || (bytes !== null && v.length !== bytes * 2) || v.length === 0) {
    invalid(`${field} must be lowercase hex${bytes === null ? "" : ` of ${bytes} bytes`}`, { field });
  }
  return v;
}

/** Checks the claims' shapes (not their truth). CREDENTIAL_INVALID naming the field. */
export function checkCredentialClaims(v: Record<string, unknown>): CredentialClaims {
  const str = (field: string, ok: (s: string) => boolean, rule: string): string => {
    const s = v[field];
    if (typeof s !== "string" || !ok(s)) invalid(`${field} must be ${rule}`, { field });
    return s;
  };
  const time = (field: string, nullable: boolean): number | null => {
    const t = v[field];
    if (nullable && t === null) return null;
    if (!isUint(t)) invalid(`${field} must be a non-negative integer of milliseconds${nullable ? " or null" : ""}`, { field });
    return t;
  };
  const subject = v.subject;
  if (subject !== null && (typeof subject !== "string" || subject.length > CREDENTIAL_SUBJECT_MAX)) {
    invalid(`subject must be null or a string of at most ${CREDENTIAL_SUBJECT_MAX} characters`, { field: "subject" });
  }
  return {
    id: str("id", (s) => CREDENTIAL_ID_RE.test(s), `a string matching ${CREDENTIAL_ID_RE}`),
    issuer: str("issuer", (s) => ORG_ID_RE.test(s), "an organisation id"),
    keyId: str("keyId", (s) => CREDENTIAL_KEY_ID_RE.test(s), `a string matching ${CREDENTIAL_KEY_ID_RE}`),
    schema: str("schema", (s) => s.length <= CREDENTIAL_SCHEMA_MAX, `a string of at most ${CREDENTIAL_SCHEMA_MAX} characters`),
    subject: subject as string | null,
    issuedAtMs: time("issuedAtMs", false) as number,
    expiresAtMs: time("expiresAtMs", true),
  };
}

function checkName(name: string): void {
  if (!CREDENTIAL_ATTRIBUTE_NAME_RE.test(name))
    invalid(`attribute name ${JSON.stringify(name)} must match ${CREDENTIAL_ATTRIBUTE_NAME_RE}`, { field: name });
}

function checkOpenings(v: unknown, field: string): Record<string, CredentialAttributeOpening> {
  if (!isPlainObject(v)) invalid(`${field} must be an object`, { field });
  const out: Record<string, CredentialAttributeOpening> = {};
  for (const [name, opening] of Object.entries(v)) {
    checkName(name);
    if (!isPlainObject(opening)) invalid(`${field}.${name} must be {value, salt}`, { field: name });
    requireExactKeys(opening, ["value", "salt"], `${field}.${name}`);
    if (typeof opening.value !== "string" || opening.value.length > CREDENTIAL_ATTRIBUTE_VALUE_MAX) {
      invalid(`${field}.${name}.value must be a string of at most ${CREDENTIAL_ATTRIBUTE_VALUE_MAX} characters`, { field: name });
    }
    out[name] = { value: opening.value, salt: checkHex(opening.salt, CREDENTIAL_SALT_BYTES, `${field}.${name}.salt`) };
  }
  return out;
}

const CREDENTIAL_DOC_FIELDS = [
  "format",
  "crypto",
  "chainId",
  "id",
  "issuer",
  "keyId",
  "schema",
  "subject",
  "issuedAtMs",
  "expiresAtMs",
  "attributes",
  "credentialHash",
  "signature",
] as const;
const PRESENTATION_DOC_FIELDS = [
  "format",
  "crypto",
  "chainId",
  "id",
  "issuer",
  "keyId",
  "schema",
  "subject",
  "issuedAtMs",
  "expiresAtMs",
  "disclosed",
  "undisclosed",
  "credentialHash",
  "signature",
  "status",
] as const;

function checkSuite(v: unknown): SuiteId {
  if (typeof v !== "string" || !(SUITE_IDS as readonly string[]).includes(v)) invalid(`crypto must be one of ${SUITE_IDS.join(", ")}`);
  return v as SuiteId;
}

/** Parses a credential document's shape. CREDENTIAL_INVALID with the reason. */
export function parseCredential(json: unknown): Credential {
  if (!isPlainObject(json) || json.format !== CREDENTIAL_FORMAT) invalid("not a tally credential");
  requireExactKeys(json, CREDENTIAL_DOC_FIELDS, "credential");
  const crypto = checkSuite(json.crypto);
  if (typeof json.chainId !== "string") invalid("chainId must be a string", { field: "chainId" });
  const attributes = checkOpenings(json.attributes, "attributes");
  if (Object.keys(attributes).length > CREDENTIAL_ATTRIBUTES_MAX) invalid(`at most ${CREDENTIAL_ATTRIBUTES_MAX} attributes`);
  return {
    format: CREDENTIAL_FORMAT,
    crypto,
    chainId: json.chainId,
    ...checkCredentialClaims(json),
    attributes,
    credentialHash: checkHex(json.credentialHash, 32, "credentialHash"),
    signature: checkHex(json.signature, null, "signature"),
  };
}

/** Parses a presentation document's shape. CREDENTIAL_INVALID with the reason. */
export function parseCredentialPresentation(json: unknown): CredentialPresentation {
  if (!isPlainObject(json) || json.format !== CREDENTIAL_PRESENTATION_FORMAT) invalid("not a tally credential presentation");
  requireExactKeys(json, PRESENTATION_DOC_FIELDS, "presentation");
  const crypto = checkSuite(json.crypto);
  if (typeof json.chainId !== "string") invalid("chainId must be a string", { field: "chainId" });
  const disclosed = checkOpenings(json.disclosed, "disclosed");
  if (!isPlainObject(json.undisclosed)) invalid("undisclosed must be an object", { field: "undisclosed" });
  const undisclosed: Record<string, string> = {};
  for (const [name, h] of Object.entries(json.undisclosed)) {
    checkName(name);
    if (Object.hasOwn(disclosed, name)) invalid(`attribute ${name} is both disclosed and undisclosed`, { field: name });
    undisclosed[name] = checkHex(h, 32, `undisclosed.${name}`);
  }
  if (Object.keys(disclosed).length + Object.keys(undisclosed).length > CREDENTIAL_ATTRIBUTES_MAX)
    invalid(`at most ${CREDENTIAL_ATTRIBUTES_MAX} attributes`);
  const status = json.status === null ? null : checkHex(json.status, null, "status");
  return {
    format: CREDENTIAL_PRESENTATION_FORMAT,
    crypto,
    chainId: json.chainId,
    ...checkCredentialClaims(json),
    disclosed,
    undisclosed,
    credentialHash: checkHex(json.credentialHash, 32, "credentialHash"),
    signature: checkHex(json.signature, null, "signature"),
    status,
  };
}

function claimsOf(c: CredentialClaims): CredentialClaims {
  return {
    id: c.id,
    issuer: c.issuer,
    keyId: c.keyId,
    schema: c.schema,
    subject: c.subject,
    issuedAtMs: c.issuedAtMs,
    expiresAtMs: c.expiresAtMs,
  };
}

export interface CredentialInput {
  readonly chainId: string;
  readonly id: string;
  readonly issuer: string;
  readonly keyId: string;
  readonly schema: string;
  readonly subject?: string | null;
  readonly issuedAtMs: number;
  readonly expiresAtMs?: number | null;
  /** name -> value. */
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Builds and signs a credential with the issuer key. `salts` gives each attribute its 32 random bytes
 * (the SDK draws them from a CSPRNG; a guessable salt lets anyone test guesses of a hidden value).
 */
export function buildCredential(
  suite: CryptoSuite,
  issuerPrivateKey: Uint8Array,
  input: CredentialInput,
  salts: (name: string) => Uint8Array,
): Credential {
  const claims = checkCredentialClaims({ ...input, subject: input.subject ?? null, expiresAtMs: input.expiresAtMs ?? null });
  if (Object.keys(input.attributes).length > CREDENTIAL_ATTRIBUTES_MAX) invalid(`at most ${CREDENTIAL_ATTRIBUTES_MAX} attributes`);
  const attributes: Record<string, CredentialAttributeOpening> = {};
  const hashes: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(input.attributes)) {
    checkName(name);
    if (typeof value !== "string" || value.length > CREDENTIAL_ATTRIBUTE_VALUE_MAX)
      invalid(`attribute ${name} must be a string of at most ${CREDENTIAL_ATTRIBUTE_VALUE_MAX} characters`);
    const salt = salts(name);
    if (salt.length !== CREDENTIAL_SALT_BYTES) invalid(`a salt is ${CREDENTIAL_SALT_BYTES} bytes`);
    attributes[name] = { value, salt: toHex(salt) };
    hashes[name] = credentialAttributeHash(suite, name, value, salt);
  }
  const hash = credentialHash(suite, input.chainId, claims, hashes);
  return {
    format: CREDENTIAL_FORMAT,
    crypto: suite.id,
    chainId: input.chainId,
    ...claims,
    attributes,
    credentialHash: toHex(hash),
    signature: toHex(suite.sign(issuerPrivateKey, hash)),
  };
}

/** The presentation of `credential` that opens only `names` (each must be an attribute of it). */
export function presentCredential(
  suite: CryptoSuite,
  credential: Credential,
  names: readonly string[],
  status: string | null = null,
): CredentialPresentation {
  const disclosed: Record<string, CredentialAttributeOpening> = {};
  const undisclosed: Record<string, string> = {};
  for (const name of names) {
    if (!Object.hasOwn(credential.attributes, name)) invalid(`the credential has no attribute ${name}`, { field: name });
  }
  for (const [name, opening] of Object.entries(credential.attributes)) {
    if (names.includes(name)) disclosed[name] = opening;
    else undisclosed[name] = toHex(credentialAttributeHash(suite, name, opening.value, fromHex(opening.salt, CREDENTIAL_SALT_BYTES)));
  }
  return {
    format: CREDENTIAL_PRESENTATION_FORMAT,
    crypto: credential.crypto,
    chainId: credential.chainId,
    ...claimsOf(credential),
    disclosed,
    undisclosed,
    credentialHash: credential.credentialHash,
    signature: credential.signature,
    status,
  };
}

/** Recomputes the credential hash from what a presentation shows; CREDENTIAL_INVALID if it differs from the stated one. */
export function credentialPresentationHash(suite: CryptoSuite, p: CredentialPresentation): Uint8Array {
  const hashes: Record<string, Uint8Array> = {};
  for (const [name, opening] of Object.entries(p.disclosed)) {
    hashes[name] = credentialAttributeHash(suite, name, opening.value, fromHex(opening.salt, CREDENTIAL_SALT_BYTES));
  }
  for (const [name, h] of Object.entries(p.undisclosed)) hashes[name] = fromHex(h, 32);
  const hash = credentialHash(suite, p.chainId, claimsOf(p), hashes);
  if (toHex(hash) !== p.credentialHash) invalid("the disclosed attributes or claims do not match the credential hash (tampered)");
  return hash;
}

/** A credential document's own consistency: openings hash to the stated credential hash. */
export function credentialHashOf(suite: CryptoSuite, c: Credential): Uint8Array {
  return credentialPresentationHash(suite, presentCredential(suite, c, Object.keys(c.attributes)));
}

// ---- status proofs ----------------------------------------------------------------------------

export interface CredentialStateEntry {
  readonly key: Uint8Array;
  /** null proves the key absent. */
  readonly value: Uint8Array | null;
  readonly proof: SmtProof;
}

/**
 * The ledger's word on one credential at one height: a header, its commit certificate, the
 * validator-set changes from genesis (omitted when none), and state proofs against the header's
 * state root of the credential record and of the issuer key it names (null: no key asked for).
 */
export interface CredentialStatusProof {
  readonly header: BlockHeader;
  readonly commit: CommitCertificate;
  readonly validatorProof?: readonly ValidatorSetHop[];
  readonly credential: CredentialStateEntry;
  readonly issuerKey: CredentialStateEntry | null;
}

const STATUS_FIELDS = ["format", "header", "commit", "credential", "issuerKey"];

function entryToValue(e: CredentialStateEntry): Value {
  return { key: e.key, value: e.value, proof: encodeSmtProof(e.proof) };
}

function badProof(message: string, meta: Record<string, string | number> = {}): never {
  throw new TallyError("BAD_PROOF", message, meta);
}

function entryFromValue(v: Value | undefined, what: string): CredentialStateEntry {
  if (!isValueMap(v) || !hasExactKeys(v, ["key", "value", "proof"])) badProof(`${what} must be {key, value, proof}`);
  if (!(v.key instanceof Uint8Array) || !(v.value === null || v.value instanceof Uint8Array))
    badProof(`${what} key and value must be bytes`);
  return { key: v.key, value: v.value, proof: decodeSmtProof(v.proof as Value) };
}

export function encodeCredentialStatusProof(p: CredentialStatusProof): Uint8Array {
  const hops = p.validatorProof ?? [];
  return encode({
    ...(hops.length === 0 ? {} : { validatorProof: validatorProofToValue(hops) }),
    format: CREDENTIAL_STATUS_FORMAT,
    header: encodeHeader(p.header),
    commit: commitToValue(p.commit),
    credential: entryToValue(p.credential),
    issuerKey: p.issuerKey === null ? null : entryToValue(p.issuerKey),
  });
}

/** Strict decoding; any structural problem is BAD_PROOF. */
export function decodeCredentialStatusProof(bytes: Uint8Array): CredentialStatusProof {
  try {
    const v = decode(bytes);
    if (!isValueMap(v) || v.format !== CREDENTIAL_STATUS_FORMAT) badProof("not a credential status proof");
    const withHops = Object.hasOwn(v, "validatorProof");
    if (!hasExactKeys(v, withHops ? [...STATUS_FIELDS, "validatorProof"] : STATUS_FIELDS))
      badProof("credential status proof has unexpected fields");
    if (!(v.header instanceof Uint8Array)) badProof("header must be bytes");
    const hops = withHops ? validatorProofFromValue(v.validatorProof as Value) : [];
    if (withHops && hops.length === 0) badProof("an empty validatorProof must be omitted");
    return {
      header: decodeHeader(v.header),
      commit: commitFromValue(v.commit as Value),
      ...(hops.length === 0 ? {} : { validatorProof: hops }),
      credential: entryFromValue(v.credential, "credential"),
      issuerKey: v.issuerKey === null ? null : entryFromValue(v.issuerKey, "issuerKey"),
    };
  } catch (err) {
    if (err instanceof TallyError && err.code === "BAD_PROOF") throw err;
    throw new TallyError("BAD_PROOF", `malformed credential status proof: ${(err as Error).message}`);
  }
}

export interface CredentialStatus {
  readonly height: number;
  /** Block time of the proven height: the status is the ledger's as of then. */
  readonly timeMs: number;
  readonly blockHash: Uint8Array;
  readonly record: CredentialRecord | null;
  readonly issuerKey: CredentialIssuerKeyRecord | null;
}

/**
 * Checks a status proof against the genesis alone: the validator-set hops from the genesis set, the
 * commit certificate under the set they lead to, and both state proofs against the certified state
 * root; the entries must be for the credential (issuer, id) and the issuer key (issuer, keyId).
 * Throws BAD_PROOF naming what failed.
 */
export function verifyCredentialStatusProof(
  genesis: Genesis,
  proof: CredentialStatusProof,
  expect: { issuer: string; id: string; keyId: string },
): CredentialStatus {
  const { suite } = genesis;
  const { header } = proof;
  verifyCertifiedHeader(genesis, header, proof.commit, proof.validatorProof, badProof);
  const entry = (e: CredentialStateEntry | null, key: Uint8Array, what: string): Uint8Array | null => {
    if (e === null) return badProof(`status proof lacks the ${what}`);
    if (!equalBytes(e.key, key)) badProof(`status proof is for another ${what}`);
    if (!verifySmtProof(suite.hash, header.stateRoot, e.key, e.value, e.proof)) badProof(`state proof of the ${what} does not verify`);
    return e.value;
  };
  const recordBytes = entry(proof.credential, credentialKey(expect.issuer, expect.id), "credential record");
  const keyBytes = entry(proof.issuerKey, credentialIssuerKeyKey(expect.issuer, expect.keyId), "issuer key");
  const decodeOr = <T>(bytes: Uint8Array | null, fn: (b: Uint8Array) => T, what: string): T | null => {
    if (bytes === null) return null;
    try {
      return fn(bytes);
    } catch {
      return badProof(`proven ${what} is malformed`);
    }
  };
  return {
    height: header.height,
    timeMs: header.timeMs,
    blockHash: blockHash(suite, header),
    record: decodeOr(recordBytes, decodeCredentialRecord, "credential record"),
    issuerKey: decodeOr(keyBytes, decodeCredentialIssuerKeyRecord, "issuer key"),
  };
}

// ---- verification -----------------------------------------------------------------------------

export interface VerifyPresentationOptions {
  /** The time expiry is judged at (the verifier's clock), ms since the epoch. */
  readonly nowMs: number;
  /** A status proof to use instead of the presentation's own (e.g. a fresh one from a node), CBOR bytes. */
  readonly statusProof?: Uint8Array;
  /** Refuse a status proof whose block is older than this at `nowMs` (revocations after it would be missed). */
  readonly maxProofAgeMs?: number;
}

export interface VerifiedPresentation extends CredentialClaims {
  readonly chainId: string;
  readonly credentialHash: string;
  /** name -> value of the opened attributes. */
  readonly disclosed: Readonly<Record<string, string>>;
  /** Names of the attributes kept hidden. */
  readonly undisclosed: readonly string[];
  readonly ledger: {
    readonly height: number;
    readonly timeMs: number;
    readonly blockHash: string;
    readonly issuedHeight: number;
    readonly issuedAtMs: number;
    readonly issuerKeyStatus: "active" | "retired";
  };
}

function refuse(code: ErrorCode, message: string, meta: Record<string, string | number | null> = {}): never {
  throw new TallyError(code, message, meta);
}

/**
 * Verifies a presentation offline against the genesis: its shape; the disclosed openings and the
 * hidden hashes give the stated credential hash; the status proof (the presentation's or
 * `options.statusProof`) is certified by the chain; the ledger records that hash for (issuer, id)
 * with the same key, schema and expiry; the issuer key recorded on the ledger signed the hash; the
 * credential is not revoked (as of the proof's block) and not expired at `nowMs`.
 * Throws TallyError: CREDENTIAL_INVALID (with meta.reason), BAD_PROOF, NO_SUCH_CREDENTIAL,
 * NO_SUCH_ISSUER_KEY, CREDENTIAL_REVOKED or CREDENTIAL_EXPIRED.
 */
export function verifyPresentation(genesis: Genesis, presentationJson: unknown, options: VerifyPresentationOptions): VerifiedPresentation {
  const { suite } = genesis;
  const p = parseCredentialPresentation(presentationJson);
  if (p.chainId !== genesis.doc.chainId) invalid("the credential is for another chain", { chainId: p.chainId });
  if (p.crypto !== suite.id) invalid("the credential uses another crypto suite than the chain", { crypto: p.crypto });
  const hash = credentialPresentationHash(suite, p);
  const proofBytes = options.statusProof ?? (p.status === null ? null : fromHex(p.status));
  if (proofBytes === null) badProof("no status proof: fetch one from a node");
  const status = verifyCredentialStatusProof(genesis, decodeCredentialStatusProof(proofBytes), p);
  if (options.maxProofAgeMs !== undefined && options.nowMs - status.timeMs > options.maxProofAgeMs) {
    badProof("the status proof is older than allowed", { height: status.height, timeMs: status.timeMs, maxAgeMs: options.maxProofAgeMs });
  }
  const { record, issuerKey: key } = status;
  const at = { issuer: p.issuer, id: p.id, height: status.height };
  if (record === null) refuse("NO_SUCH_CREDENTIAL", "the ledger has no such credential", at);
  if (key === null) refuse("NO_SUCH_ISSUER_KEY", "the ledger has no such issuer key", { ...at, keyId: p.keyId });
  if (!equalBytes(record.credentialHash, hash)) invalid("the ledger records another hash for this credential (tampered or replaced)", at);
  if (record.keyId !== p.keyId || record.schema !== p.schema || record.expiresAtMs !== p.expiresAtMs) {
    invalid("the ledger record's key, schema or expiry differs from the credential's", at);
  }
  if (!suite.verify(key.publicKey, hash, fromHex(p.signature))) invalid("the issuer signature does not verify", at);
  if (record.status === "revoked") {
    refuse("CREDENTIAL_REVOKED", `revoked at height ${record.revokedHeight}: ${record.reason}`, {
      ...at,
      revokedHeight: record.revokedHeight,
      reason: record.reason,
    });
  }
  if (p.expiresAtMs !== null && options.nowMs >= p.expiresAtMs) {
    refuse("CREDENTIAL_EXPIRED", `expired at ${new Date(p.expiresAtMs).toISOString()}`, { ...at, expiresAtMs: p.expiresAtMs });
  }
  const disclosed: Record<string, string> = {};
  for (const [name, opening] of Object.entries(p.disclosed)) disclosed[name] = opening.value;
  return {
    chainId: p.chainId,
    ...claimsOf(p),
    credentialHash: p.credentialHash,
    disclosed,
    undisclosed: Object.keys(p.undisclosed).sort(),
    ledger: {
      height: status.height,
      timeMs: status.timeMs,
      blockHash: toHex(status.blockHash),
      issuedHeight: record.issuedHeight,
      issuedAtMs: record.issuedAtMs,
      issuerKeyStatus: key.status,
    },
  };
}
