/**
 * Electronic invoices (spec/modules/invoices.md): field patterns, the invoice record and its
 * canonical encoding, and the state keys. Shared by the node's `invoices` module and by clients that
 * read an invoice from state with its proof, so both agree byte for byte.
 */
import { concatBytes, utf8 } from "./bytes.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { moduleKey } from "./state-keys.js";
import { tokenAmountFromBytes, tokenAmountToBytes } from "./tokens.js";

/** An invoice number: unique per issuing org; "/" is allowed (e.g. "2026/INV-0001"), so it is always the last part of a key. */
export const INVOICE_NUMBER_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;
/**
 * A taxpayer identification number (seller or buyer): upper-case letters and digits with inner
 * hyphens, at most 32 characters. Covers unified social credit codes (18 characters) and VAT
 * numbers with country prefix ("DE123456789"); clients upper-case and strip spaces first.
 */
export const INVOICE_TAX_ID_RE = /^[A-Z0-9](?:[A-Z0-9-]{0,30}[A-Z0-9])?$/;
/** An organisation id, as in genesis (spec/genesis.md). Never contains "/", so it delimits keys. */
export const INVOICE_ORG_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const INVOICE_CLAIM_REF_LENGTH_MAX = 64;
export const INVOICE_REASON_LENGTH_MAX = 256;
/** A listing cursor: the position of an invoice in commit order, height u64 BE + tx index u32 BE, in hex. */
export const INVOICE_CURSOR_RE = /^[0-9a-f]{24}$/;

export type InvoiceStatus = "issued" | "reimbursed" | "reversed";
export const INVOICE_STATUSES: readonly InvoiceStatus[] = ["issued", "reimbursed", "reversed"];

export interface InvoiceRecord {
  readonly issuerOrg: string;
  readonly number: string;
  readonly sellerTaxId: string;
  readonly buyerTaxId: string;
  readonly buyerOrg: string;
  readonly amount: bigint;
  readonly tax: bigint;
  readonly date: string;
  /** The chain's hash (SHA-256 or SM3) of the full invoice document. */
  readonly digest: Uint8Array;
  readonly issuedBy: string;
  /** Height of the block that issued it. */
  readonly height: number;
  readonly status: InvoiceStatus;
  /** Set once by `reimburse`; null otherwise. */
  readonly reimbursedAt: number | null;
  readonly reimbursedBy: string | null;
  readonly claimRef: string | null;
  /** Set once by `reverse`; null otherwise. */
  readonly reversedAt: number | null;
  readonly reversedBy: string | null;
  readonly reason: string | null;
}

export function encodeInvoiceRecord(r: InvoiceRecord): Uint8Array {
  return encode({
    issuerOrg: r.issuerOrg,
    number: r.number,
    sellerTaxId: r.sellerTaxId,
    buyerTaxId: r.buyerTaxId,
    buyerOrg: r.buyerOrg,
    amount: tokenAmountToBytes(r.amount),
    tax: tokenAmountToBytes(r.tax),
    date: r.date,
    digest: r.digest,
    issuedBy: r.issuedBy,
    height: r.height,
    status: r.status,
    reimbursedAt: r.reimbursedAt,
    reimbursedBy: r.reimbursedBy,
    claimRef: r.claimRef,
    reversedAt: r.reversedAt,
    reversedBy: r.reversedBy,
    reason: r.reason,
  });
}

const isText = (v: Value | undefined): v is string => typeof v === "string";
const isTextOrNull = (v: Value | undefined) => v === null || typeof v === "string";
const isHeightOrNull = (v: Value | undefined) => v === null || typeof v === "number";

export function decodeInvoiceRecord(bytes: Uint8Array): InvoiceRecord {
  const v = decode(bytes);
  if (!isValueMap(v)) throw new TallyError("BAD_ENCODING", "an invoice record is a map");
  const ok =
    [v.issuerOrg, v.number, v.sellerTaxId, v.buyerTaxId, v.buyerOrg, v.date, v.issuedBy].every(isText) &&
    v.amount instanceof Uint8Array &&
    v.tax instanceof Uint8Array &&
    v.digest instanceof Uint8Array &&
    typeof v.height === "number" &&
    INVOICE_STATUSES.includes(v.status as InvoiceStatus) &&
    [v.reimbursedAt, v.reversedAt].every(isHeightOrNull) &&
    [v.reimbursedBy, v.claimRef, v.reversedBy, v.reason].every(isTextOrNull);
  if (!ok) throw new TallyError("BAD_ENCODING", "malformed invoice record");
  return {
    ...(v as unknown as InvoiceRecord),
    amount: tokenAmountFromBytes(v.amount as Uint8Array),
    tax: tokenAmountFromBytes(v.tax as Uint8Array),
  };
}

/** invoices/i/<issuer org>/<number> -> invoice record */
export function invoiceKey(issuerOrg: string, number: string): Uint8Array {
  return moduleKey("invoices", utf8(`i/${issuerOrg}/${number}`));
}

/** invoices/s/<issuer org>/ : the issuer's index, in commit order. */
export function invoiceByIssuerPrefix(issuerOrg: string): Uint8Array {
  return moduleKey("invoices", utf8(`s/${issuerOrg}/`));
}

/** invoices/b/<buyer org>/ : the buyer's index, in commit order. */
export function invoiceByBuyerPrefix(buyerOrg: string): Uint8Array {
  return moduleKey("invoices", utf8(`b/${buyerOrg}/`));
}

/** Height u64 BE + tx index u32 BE: sorts in commit order. */
export function invoicePosition(height: number, txIndex: number): Uint8Array {
  const pos = new Uint8Array(12);
  const view = new DataView(pos.buffer);
  view.setBigUint64(0, BigInt(height));
  view.setUint32(8, txIndex);
  return pos;
}

/** invoices/s/<issuer org>/<height u64 BE><tx index u32 BE> -> number */
export function invoiceByIssuerKey(issuerOrg: string, height: number, txIndex: number): Uint8Array {
  return concatBytes(invoiceByIssuerPrefix(issuerOrg), invoicePosition(height, txIndex));
}

/** invoices/b/<buyer org>/<height u64 BE><tx index u32 BE> -> [issuer org, number] */
export function invoiceByBuyerKey(buyerOrg: string, height: number, txIndex: number): Uint8Array {
  return concatBytes(invoiceByBuyerPrefix(buyerOrg), invoicePosition(height, txIndex));
}
