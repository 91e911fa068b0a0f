/**
 * Document registry (spec/modules/documents.md): the client-side key derivation that keeps a trade
 * document's identity off the ledger, the records of the `documents` module and its state keys.
 * Shared by the node module, the SDK, the CLI and offline verifiers so that all derive the same bytes.
 */
import { concatBytes, fromHex, toHex, utf8 } from "./bytes.js";
import type { CryptoSuite } from "./crypto/index.js";
import { CALENDAR_DATE_RE, isCalendarDate } from "./dates.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { moduleKey } from "./state-keys.js";
import { TOKEN_AMOUNT_MAX, tokenAmountFromBytes, tokenAmountToBytes } from "./tokens.js";

export const DOCUMENT_KINDS = ["receivable", "invoice", "contract", "customs"] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** ISO 4217 alphabetic code. */
export const CURRENCY_RE = /^[A-Z]{3}$/;
/** Domain separation of the key commitment; a new derivation gets a new version. */
export const DOCUMENT_KEY_DOMAIN = "tally/document-key/v1";
export const DOCUMENT_KEY_BYTES = 32;
export const DOCUMENT_SALT_BYTES = 32;
/** Issuer ids and document numbers, after normalisation. */
export const DOCUMENT_FIELD_LENGTH_MAX = 128;
/** A pledge's reference, a payment id, a payer id. */
export const DOCUMENT_REF_LENGTH_MAX = 64;
/** Uses per document (financing and payments together), so that one query can return them all. */
export const DOCUMENT_USES_MAX = 1_000;
/** Payer ids are used inside state keys: no "/" (the key separator), no whitespace or control characters. */
export const PAYER_RE = /^[A-Za-z0-9][A-Za-z0-9._:@#+-]{0,63}$/;

/** The identifying fields of a document as typed or printed; `normalizeDocumentFields` makes them exact. */
export interface DocumentFieldsInput {
  readonly kind: string;
  readonly issuerId: string;
  readonly number: string;
  readonly currency: string;
  readonly faceValue: string | bigint;
  readonly issueDate: string;
}

/** The exact strings that go into the key. */
export interface DocumentFields {
  readonly kind: DocumentKind;
  readonly issuerId: string;
  readonly number: string;
  readonly currency: string;
  /** Decimal, no leading zeros, 1 to 10^39 − 1. */
  readonly faceValue: string;
  /** YYYY-MM-DD, a valid Gregorian date. */
  readonly issueDate: string;
}

function badField(field: string, message: string): never {
  throw new TallyError("BAD_ARGS", `${field}: ${message}`, { field });
}

/** ASCII whitespace only (TAB, LF, VT, FF, CR, SPACE): the set is fixed so that every implementation trims alike. */
const trimAscii = (text: string): string => text.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "");

function isDocumentKind(kind: string): kind is DocumentKind {
  return (DOCUMENT_KINDS as readonly string[]).includes(kind);
}

function textField(value: unknown, field: string): string {
  if (typeof value !== "string") badField(field, "must be a string");
  const text = trimAscii(value.normalize("NFC"));
  if (text.length === 0 || text.length > DOCUMENT_FIELD_LENGTH_MAX) badField(field, `must be 1 to ${DOCUMENT_FIELD_LENGTH_MAX} characters`);
  return text;
}

function faceValueField(value: unknown): string {
  const text = typeof value === "bigint" ? value.toString() : typeof value === "string" ? trimAscii(value) : "";
  if (!/^[0-9]{1,80}$/.test(text)) badField("faceValue", "must be a decimal integer");
  const n = BigInt(text);
  if (n === 0n || n > TOKEN_AMOUNT_MAX) badField("faceValue", "must be from 1 to 10^39 - 1");
  return n.toString();
}

function dateField(value: unknown): string {
  const text = typeof value === "string" ? trimAscii(value) : "";
  if (!CALENDAR_DATE_RE.test(text)) badField("issueDate", "must be YYYY-MM-DD");
  if (!isCalendarDate(text)) badField("issueDate", "is not a calendar date");
  return text;
}

/**
 * The exact fields of spec/modules/documents.md §key: kind and currency are case-folded, texts are
 * NFC-normalised and stripped of surrounding ASCII whitespace, the face value loses leading zeros.
 * Anything that cannot be normalised is BAD_ARGS naming the field.
 */
export function normalizeDocumentFields(input: DocumentFieldsInput): DocumentFields {
  const kind = typeof input.kind === "string" ? trimAscii(input.kind).toLowerCase() : "";
  if (!isDocumentKind(kind)) badField("kind", `must be one of ${DOCUMENT_KINDS.join(", ")}`);
  const currency = typeof input.currency === "string" ? trimAscii(input.currency).toUpperCase() : "";
  if (!CURRENCY_RE.test(currency)) badField("currency", "must be a three-letter ISO 4217 code");
  return {
    kind,
    issuerId: textField(input.issuerId, "issuerId"),
    number: textField(input.number, "number"),
    currency,
    faceValue: faceValueField(input.faceValue),
    issueDate: dateField(input.issueDate),
  };
}

/** The bytes that are hashed: domain, 0x00, salt, canonical CBOR of the six normalised fields. */
export function documentKeyPreimage(salt: Uint8Array, input: DocumentFieldsInput): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length !== DOCUMENT_SALT_BYTES) badField("salt", `must be ${DOCUMENT_SALT_BYTES} bytes`);
  const f = normalizeDocumentFields(input);
  const fields = encode([f.kind, f.issuerId, f.number, f.currency, f.faceValue, f.issueDate]);
  return concatBytes(utf8(DOCUMENT_KEY_DOMAIN), Uint8Array.of(0), salt, fields);
}

/**
 * A document's registry key: a commitment to its identifying fields under the consortium's secret
 * salt. Every holder of the same document derives the same key; without the salt the key reveals
 * nothing, and guessing the fields needs the salt too.
 */
export function documentKey(suite: Pick<CryptoSuite, "hash">, salt: Uint8Array, fields: DocumentFieldsInput): Uint8Array {
  return suite.hash(documentKeyPreimage(salt, fields));
}

/** A salt given as 64 hex characters (optionally "0x"-prefixed). */
export function parseDocumentSalt(text: string): Uint8Array {
  const hex = trimAscii(text).replace(/^0x/, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) badField("salt", "must be 32 bytes in hex (64 characters)");
  return fromHex(hex, DOCUMENT_SALT_BYTES);
}

// ---- records ---------------------------------------------------------------------------------------

export interface PendingTransfer {
  readonly toOrg: string;
  /** The account of the holder org that asked for it. */
  readonly by: string;
  readonly height: number;
}

export interface DocumentRecord {
  readonly kind: DocumentKind;
  readonly faceValue: bigint;
  readonly currency: string;
  /** Organisation that holds the document (the registering bank's, then the factor's). */
  readonly holder: string;
  /** Address of the debtor's account, who confirms transfers; null: not transferable. */
  readonly debtor: string | null;
  /** Account that registered it. */
  readonly registeredBy: string;
  readonly height: number;
  /** Sum of open uses: open financing and every payment. */
  readonly used: bigint;
  readonly openUses: number;
  /** Uses so far; the next use gets id `uses + 1`. */
  readonly uses: number;
  readonly pending: PendingTransfer | null;
}

export type UseKind = "financing" | "payment";
export type UseStatus = "open" | "released";

export interface UseRecord {
  readonly id: number;
  readonly org: string;
  readonly kind: UseKind;
  readonly amount: bigint;
  /** Financing reference, or the payment id. */
  readonly ref: string;
  /** Payer id of a payment; null for financing. */
  readonly payer: string | null;
  /** Account that opened it. */
  readonly by: string;
  readonly height: number;
  readonly status: UseStatus;
  readonly releasedHeight: number | null;
}

type ValueMap = { readonly [key: string]: Value };

function asMap(bytes: Uint8Array, what: string): ValueMap {
  const v = decode(bytes);
  if (!isValueMap(v)) throw new TallyError("BAD_ENCODING", `a ${what} is a map`);
  return v as ValueMap;
}

export function encodeDocumentRecord(d: DocumentRecord): Uint8Array {
  return encode({
    kind: d.kind,
    faceValue: tokenAmountToBytes(d.faceValue),
    currency: d.currency,
    holder: d.holder,
    debtor: d.debtor,
    registeredBy: d.registeredBy,
    height: d.height,
    used: tokenAmountToBytes(d.used),
    openUses: d.openUses,
    uses: d.uses,
    pending: d.pending === null ? null : { toOrg: d.pending.toOrg, by: d.pending.by, height: d.pending.height },
  });
}

export function decodeDocumentRecord(bytes: Uint8Array): DocumentRecord {
  const m = asMap(bytes, "document record");
  const pending = m.pending === null || m.pending === undefined ? null : (m.pending as ValueMap);
  return {
    kind: m.kind as DocumentKind,
    faceValue: tokenAmountFromBytes(m.faceValue as Uint8Array),
    currency: m.currency as string,
    holder: m.holder as string,
    debtor: (m.debtor ?? null) as string | null,
    registeredBy: m.registeredBy as string,
    height: m.height as number,
    used: tokenAmountFromBytes(m.used as Uint8Array),
    openUses: m.openUses as number,
    uses: m.uses as number,
    pending: pending === null ? null : { toOrg: pending.toOrg as string, by: pending.by as string, height: pending.height as number },
  };
}

export function encodeUseRecord(u: UseRecord): Uint8Array {
  return encode({
    id: u.id,
    org: u.org,
    kind: u.kind,
    amount: tokenAmountToBytes(u.amount),
    ref: u.ref,
    payer: u.payer,
    by: u.by,
    height: u.height,
    status: u.status,
    releasedHeight: u.releasedHeight,
  });
}

export function decodeUseRecord(bytes: Uint8Array): UseRecord {
  const m = asMap(bytes, "use record");
  return {
    id: m.id as number,
    org: m.org as string,
    kind: m.kind as UseKind,
    amount: tokenAmountFromBytes(m.amount as Uint8Array),
    ref: m.ref as string,
    payer: (m.payer ?? null) as string | null,
    by: m.by as string,
    height: m.height as number,
    status: m.status as UseStatus,
    releasedHeight: (m.releasedHeight ?? null) as number | null,
  };
}

// ---- state keys (spec/modules/documents.md §state) ---------------------------------------------------

function checkKey(key: Uint8Array): Uint8Array {
  if (key.length !== DOCUMENT_KEY_BYTES) throw new TallyError("BAD_ARGS", "a document key is 32 bytes", { field: "key" });
  return key;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** documents/d/<32-byte key> -> document record */
export function documentRecordKey(key: Uint8Array): Uint8Array {
  return moduleKey("documents", concatBytes(utf8("d/"), checkKey(key)));
}

/** documents/u/<32-byte key> : prefix of a document's uses, in id order */
export function documentUsesPrefix(key: Uint8Array): Uint8Array {
  return moduleKey("documents", concatBytes(utf8("u/"), checkKey(key)));
}

/** documents/u/<32-byte key><use id u32 BE> -> use record */
export function documentUseKey(key: Uint8Array, useId: number): Uint8Array {
  return concatBytes(documentUsesPrefix(key), u32(useId));
}

/** documents/p/<32-byte key><payment id UTF-8> -> use id (a payment id is recorded once per document) */
export function documentPaymentKey(key: Uint8Array, paymentId: string): Uint8Array {
  return moduleKey("documents", concatBytes(utf8("p/"), checkKey(key), utf8(paymentId)));
}

/** documents/y/<payer id>/ : prefix of a payer's payments, by document key then use id */
export function documentPayerPrefix(payer: string): Uint8Array {
  return moduleKey("documents", utf8(`y/${payer}/`));
}

/** documents/y/<payer id>/<32-byte key><use id u32 BE> -> amount (32-byte big-endian) */
export function documentPayerKey(payer: string, key: Uint8Array, useId: number): Uint8Array {
  return concatBytes(documentPayerPrefix(payer), checkKey(key), u32(useId));
}

/** The (document key, use id) of an entry under documentPayerPrefix(payer). */
export function splitDocumentPayerKey(payer: string, stateKey: Uint8Array): { key: Uint8Array; useId: number } {
  const rest = stateKey.subarray(documentPayerPrefix(payer).length);
  if (rest.length !== DOCUMENT_KEY_BYTES + 4)
    throw new TallyError("BAD_ENCODING", "a payer index key ends with a document key and a use id");
  return { key: rest.slice(0, DOCUMENT_KEY_BYTES), useId: new DataView(rest.buffer, rest.byteOffset + DOCUMENT_KEY_BYTES, 4).getUint32(0) };
}

/** Hex of a document key (the form queries take). */
export const documentKeyHex = (key: Uint8Array): string => toHex(checkKey(key));
