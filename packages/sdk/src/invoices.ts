/**
 * The `invoices` module from a client (spec/modules/invoices.md). Calls are signed by an
 * AccountSigner (`signer.invoices`: issue, reimburse, reverse, and the tax authority's signed
 * listings); `client.invoices` answers anyone's status check and reads records with their state proof.
 * Amounts are bigint (or decimal strings), never JavaScript numbers.
 */
import {
  decode,
  decodeInvoiceRecord,
  decodeSmtProof,
  fromHex,
  getSuite,
  INVOICE_CLAIM_REF_LENGTH_MAX,
  INVOICE_CURSOR_RE,
  INVOICE_NUMBER_RE,
  INVOICE_ORG_RE,
  INVOICE_REASON_LENGTH_MAX,
  INVOICE_TAX_ID_RE,
  type InvoiceRecord,
  type InvoiceStatus,
  invoiceKey,
  isCalendarDate,
  type JsonValue,
  parseTokenAmount,
  TallyError,
  toHex,
  type Value,
  verifySmtProof,
} from "@tally/core";
import type { SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { StateView, SubmitResult } from "./types.js";

export type { InvoiceRecord, InvoiceStatus };

export type InvoiceAmount = bigint | string;

export interface InvoiceInput {
  readonly number: string;
  readonly sellerTaxId: string;
  readonly buyerTaxId: string;
  /** The member organisation that will reimburse it. */
  readonly buyerOrg: string;
  /** Before tax, > 0. */
  readonly amount: InvoiceAmount;
  /** May be 0. */
  readonly tax: InvoiceAmount;
  /** YYYY-MM-DD. */
  readonly date: string;
  /** The chain's hash of the full invoice document (`client.invoices.digestOf(bytes)`): 32 bytes or 64 hex characters. */
  readonly digest: Uint8Array | string;
}

/** What anyone may learn of an invoice (the `status` query). */
export interface InvoiceStatusView {
  readonly issuerOrg: string;
  readonly number: string;
  readonly status: InvoiceStatus;
  readonly buyerOrg: string;
  readonly amount: bigint;
  readonly tax: bigint;
  readonly date: string;
  readonly digest: Uint8Array;
  readonly issuedAt: number;
  readonly reimbursedAt: number | null;
  readonly reversedAt: number | null;
}

/** The full record, as the tax authority and regulators list it. */
export interface InvoiceView extends InvoiceStatusView {
  readonly sellerTaxId: string;
  readonly buyerTaxId: string;
  readonly issuedBy: string;
  readonly reimbursedBy: string | null;
  readonly claimRef: string | null;
  readonly reversedBy: string | null;
  readonly reason: string | null;
}

export interface InvoicePage {
  /** Height of the state the node answered from. */
  readonly height: number;
  readonly items: InvoiceView[];
  /** Pass as `after` for the next page; null when this page was not full. */
  readonly next: string | null;
}

export interface InvoicePageOptions {
  readonly after?: string;
  /** 1 to 1,000; default 100. */
  readonly limit?: number;
}

export interface InvoiceReadOptions {
  readonly height?: number;
  /** A state root you trust (e.g. from a verified receipt's header) at `height`. */
  readonly trustedStateRoot?: Uint8Array;
}

function check(ok: boolean, field: string, expected: string): void {
  if (!ok) throw new TallyError("BAD_ARGS", `${field} must be ${expected}`, { field, expected });
}

const checkOrg = (org: string, field: string) => check(INVOICE_ORG_RE.test(org), field, `an org id matching ${INVOICE_ORG_RE}`);
const checkNumber = (num: string) => check(INVOICE_NUMBER_RE.test(num), "number", `an invoice number matching ${INVOICE_NUMBER_RE}`);

function wireAmount(amount: InvoiceAmount, field: string, positive: boolean): string {
  const text = typeof amount === "bigint" ? amount.toString() : amount;
  parseTokenAmount(text, field, positive);
  return text;
}

function wireDigest(digest: Uint8Array | string): Uint8Array {
  if (typeof digest === "string") {
    check(/^[0-9a-f]{64}$/.test(digest), "digest", "32 bytes or 64 lowercase hex characters");
    return fromHex(digest, 32);
  }
  check(digest.length === 32, "digest", "32 bytes or 64 lowercase hex characters");
  return digest;
}

/** Arguments of `issue`, checked like the node checks them (BAD_ARGS before anything is signed). */
export function invoiceIssueArgs(input: InvoiceInput): Record<string, Value> {
  checkNumber(input.number);
  for (const field of ["sellerTaxId", "buyerTaxId"] as const) {
    check(INVOICE_TAX_ID_RE.test(input[field]), field, `a taxpayer id matching ${INVOICE_TAX_ID_RE}`);
  }
  checkOrg(input.buyerOrg, "buyerOrg");
  check(isCalendarDate(input.date), "date", "a calendar date YYYY-MM-DD");
  return {
    number: input.number,
    sellerTaxId: input.sellerTaxId,
    buyerTaxId: input.buyerTaxId,
    buyerOrg: input.buyerOrg,
    amount: wireAmount(input.amount, "amount", true),
    tax: wireAmount(input.tax, "tax", false),
    date: input.date,
    digest: wireDigest(input.digest),
  };
}

function checkText(text: string, field: string, max: number): void {
  check(text.length <= max && /\S/.test(text), field, `text of 1 to ${max} characters, not blank`);
}

type Json = { readonly [key: string]: unknown };

const bytesOf = (hex: unknown) => fromHex(String(hex).replace(/^0x/, ""));

function statusFromJson(v: Json): InvoiceStatusView {
  return {
    issuerOrg: v.issuerOrg as string,
    number: v.number as string,
    status: v.status as InvoiceStatus,
    buyerOrg: v.buyerOrg as string,
    amount: BigInt(v.amount as string),
    tax: BigInt(v.tax as string),
    date: v.date as string,
    digest: bytesOf(v.digest),
    issuedAt: v.issuedAt as number,
    reimbursedAt: v.reimbursedAt as number | null,
    reversedAt: v.reversedAt as number | null,
  };
}

function viewFromJson(v: Json): InvoiceView {
  return {
    ...statusFromJson(v),
    sellerTaxId: v.sellerTaxId as string,
    buyerTaxId: v.buyerTaxId as string,
    issuedBy: v.issuedBy as string,
    reimbursedBy: v.reimbursedBy as string | null,
    claimRef: v.claimRef as string | null,
    reversedBy: v.reversedBy as string | null,
    reason: v.reason as string | null,
  };
}

function pageArgs(page: InvoicePageOptions): { [key: string]: JsonValue } {
  if (page.after !== undefined) check(INVOICE_CURSOR_RE.test(page.after), "after", "a cursor from a previous page");
  return { ...(page.after === undefined ? {} : { after: page.after }), ...(page.limit === undefined ? {} : { limit: page.limit }) };
}

/** Reads of the invoices module: anyone's status check, proven records, and the chain's hash of a document. */
export class InvoiceReads {
  private hash: ((bytes: Uint8Array) => Uint8Array) | undefined;

  constructor(private readonly client: TallyClient) {}

  private async hashFn(): Promise<(bytes: Uint8Array) => Uint8Array> {
    if (this.hash === undefined) this.hash = getSuite((await this.client.status()).crypto).hash;
    return this.hash;
  }

  /** The digest to issue with: the chain's hash (SHA-256 or SM3) of the document's bytes. */
  async digestOf(document: Uint8Array): Promise<Uint8Array> {
    return (await this.hashFn())(document);
  }

  /** The status of invoice `number` of `issuerOrg` (no signature needed), or null if there is none. */
  async status(issuerOrg: string, number: string): Promise<InvoiceStatusView | null> {
    checkOrg(issuerOrg, "issuerOrg");
    checkNumber(number);
    try {
      const answer = await this.client.query<Json>("invoices", "status", { issuerOrg, number });
      return statusFromJson(answer.value);
    } catch (err) {
      if (err instanceof TallyError && err.code === "NO_SUCH_INVOICE") return null;
      throw err;
    }
  }

  /** The full record read from state with its sparse Merkle proof checked (see InvoiceReadOptions), or null. */
  async recordWithProof(
    issuerOrg: string,
    number: string,
    options: InvoiceReadOptions = {},
  ): Promise<{ value: InvoiceRecord | null; view: StateView }> {
    checkOrg(issuerOrg, "issuerOrg");
    checkNumber(number);
    const key = invoiceKey(issuerOrg, number);
    const view = await this.client.state(toHex(key), options.height);
    if (view.key !== toHex(key)) throw new TallyError("BAD_PROOF", "the node answered for another key", { key: view.key });
    const value = view.value === null ? null : fromHex(view.value);
    const root = options.trustedStateRoot ?? fromHex(view.stateRoot);
    let ok = false;
    try {
      ok = verifySmtProof(await this.hashFn(), root, key, value, decodeSmtProof(decode(fromHex(view.proof))));
    } catch {
      ok = false;
    }
    if (!ok) throw new TallyError("BAD_PROOF", "state proof does not verify", { key: view.key });
    return { value: value === null ? null : decodeInvoiceRecord(value), view };
  }

  async record(issuerOrg: string, number: string, options: InvoiceReadOptions = {}): Promise<InvoiceRecord | null> {
    return (await this.recordWithProof(issuerOrg, number, options)).value;
  }
}

/** Calls of the invoices module signed by one account. Transactions wait for commit unless `wait: false`. */
export class InvoiceCalls {
  constructor(private readonly signer: AccountSigner) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("invoices", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Issues an invoice for the signer's org (needs the `invoice-issuer` role). */
  issue(invoice: InvoiceInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("issue", invoiceIssueArgs(invoice), options);
  }

  /** Records the reimbursement of an invoice addressed to the signer's org; only once. */
  reimburse(issuerOrg: string, number: string, options: SubmitOptions & { claimRef?: string } = {}): Promise<SubmitResult> {
    checkOrg(issuerOrg, "issuerOrg");
    checkNumber(number);
    const args: Record<string, Value> = { issuerOrg, number };
    if (options.claimRef !== undefined) {
      checkText(options.claimRef, "claimRef", INVOICE_CLAIM_REF_LENGTH_MAX);
      args.claimRef = options.claimRef;
    }
    return this.call("reimburse", args, options);
  }

  /** Reverses an invoice of the signer's org before it is reimbursed (needs `invoice-issuer`). */
  reverse(number: string, reason: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkNumber(number);
    checkText(reason, "reason", INVOICE_REASON_LENGTH_MAX);
    return this.call("reverse", { number, reason }, options);
  }

  /** An issuing org's invoices in issue order, full records (signed query; tax-authority or regulator). */
  async listByIssuer(issuerOrg: string, page: InvoicePageOptions = {}): Promise<InvoicePage> {
    checkOrg(issuerOrg, "issuerOrg");
    return this.list("byIssuer", { issuerOrg, ...pageArgs(page) });
  }

  /** Invoices addressed to a buyer org in issue order (signed query; tax-authority or regulator). */
  async listByBuyer(buyerOrg: string, page: InvoicePageOptions = {}): Promise<InvoicePage> {
    checkOrg(buyerOrg, "buyerOrg");
    return this.list("byBuyer", { buyerOrg, ...pageArgs(page) });
  }

  private async list(query: string, args: { [key: string]: JsonValue }): Promise<InvoicePage> {
    const answer = await this.signer.query<{ items: Json[]; next: string | null }>("invoices", query, args);
    return { height: answer.height, items: answer.value.items.map(viewFromJson), next: answer.value.next };
  }
}
