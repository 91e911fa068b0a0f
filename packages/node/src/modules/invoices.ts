/**
 * Electronic invoices (spec/modules/invoices.md). The issuer of an invoice is an organisation: any of
 * its accounts with the role `invoice-issuer` issues under the org's number range, and numbers are
 * unique per issuing org. An account of the buyer org reimburses it once; an invoice-issuer of the
 * issuing org reverses it, once and only before reimbursement. Records keep who did what at which
 * height; anyone with the issuer and number checks the status; the tax authority lists by issuer.
 */
import {
  assert,
  concatBytes,
  decode,
  decodeInvoiceRecord,
  encode,
  encodeInvoiceRecord,
  fromHex,
  INVOICE_CLAIM_REF_LENGTH_MAX,
  INVOICE_CURSOR_RE,
  INVOICE_NUMBER_RE,
  INVOICE_ORG_RE,
  INVOICE_REASON_LENGTH_MAX,
  INVOICE_TAX_ID_RE,
  type InvoiceRecord,
  invoiceByBuyerKey,
  invoiceByBuyerPrefix,
  invoiceByIssuerKey,
  invoiceByIssuerPrefix,
  invoiceKey,
  isCalendarDate,
  LIMITS,
  orgKey,
  parseTokenAmount,
  ROLES,
  TallyError,
  toHex,
  type Value,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext } from "../execution/module.js";
import { type Schema, s } from "../execution/schema.js";

/** A wire amount (decimal string), parsed to bigint; `positive` refuses 0. */
function amount(positive: boolean): Schema<bigint> {
  return {
    description: `a decimal string of at most 39 digits without leading zeros${positive ? ", greater than 0" : ""}`,
    parse: (v, path) => parseTokenAmount(v, path, positive),
  };
}

const date: Schema<string> = {
  description: "a calendar date YYYY-MM-DD",
  parse(v, path) {
    if (typeof v !== "string" || !isCalendarDate(v)) {
      throw new TallyError("BAD_ARGS", `${path} must be a calendar date YYYY-MM-DD`, { field: path, expected: this.description });
    }
    return v;
  },
};

const number = s.string({ maxLength: 64, pattern: INVOICE_NUMBER_RE });
const org = s.string({ maxLength: 64, pattern: INVOICE_ORG_RE });
const taxId = s.string({ maxLength: 32, pattern: INVOICE_TAX_ID_RE });
/** Free text that says something: at least one non-blank character. */
const text = (maxLength: number) => s.string({ maxLength, pattern: /\S/ });

const issueArgs = s.object({
  number,
  sellerTaxId: taxId,
  buyerTaxId: taxId,
  buyerOrg: org,
  amount: amount(true),
  tax: amount(false),
  date,
  digest: s.bytes(32),
});
const reimburseArgs = s.object({ issuerOrg: org, number, claimRef: s.optional(text(INVOICE_CLAIM_REF_LENGTH_MAX)) });
const reverseArgs = s.object({ number, reason: text(INVOICE_REASON_LENGTH_MAX) });

type Reader = Pick<QueryContext, "get">;

function readInvoice(ctx: Reader, issuerOrg: string, num: string): InvoiceRecord {
  const bytes = ctx.get(invoiceKey(issuerOrg, num));
  if (bytes === null) throw new TallyError("NO_SUCH_INVOICE", undefined, { issuerOrg, number: num });
  return decodeInvoiceRecord(bytes);
}

/** A reimbursed or reversed invoice is final: neither may follow the other, nor repeat. */
function refuseIfSettled(invoice: InvoiceRecord): void {
  const meta = { issuerOrg: invoice.issuerOrg, number: invoice.number };
  if (invoice.status === "reversed") throw new TallyError("INVOICE_REVERSED", undefined, { ...meta, reversedAt: invoice.reversedAt });
  if (invoice.status === "reimbursed") {
    throw new TallyError("ALREADY_REIMBURSED", undefined, { ...meta, reimbursedAt: invoice.reimbursedAt });
  }
}

function writeInvoice(ctx: CallContext, invoice: InvoiceRecord): void {
  ctx.set(invoiceKey(invoice.issuerOrg, invoice.number), encodeInvoiceRecord(invoice));
}

type IssueArgs = typeof issueArgs extends Schema<infer T> ? T : never;

function issue(ctx: CallContext, args: IssueArgs) {
  const issuerOrg = ctx.callerOrg;
  if (ctx.get(orgKey(args.buyerOrg)) === null) throw new TallyError("NO_SUCH_ORG", undefined, { org: args.buyerOrg });
  const existing = ctx.get(invoiceKey(issuerOrg, args.number));
  if (existing !== null) {
    const first = decodeInvoiceRecord(existing);
    throw new TallyError("INVOICE_EXISTS", undefined, { issuerOrg, number: args.number, height: first.height });
  }
  const invoice: InvoiceRecord = {
    issuerOrg,
    ...args,
    issuedBy: ctx.caller,
    height: ctx.height,
    status: "issued",
    reimbursedAt: null,
    reimbursedBy: null,
    claimRef: null,
    reversedAt: null,
    reversedBy: null,
    reason: null,
  };
  writeInvoice(ctx, invoice);
  ctx.set(invoiceByIssuerKey(issuerOrg, ctx.height, ctx.txIndex), encode(args.number));
  ctx.set(invoiceByBuyerKey(args.buyerOrg, ctx.height, ctx.txIndex), encode([issuerOrg, args.number]));
  ctx.emit("issued", {
    issuerOrg,
    number: args.number,
    buyerOrg: args.buyerOrg,
    amount: args.amount.toString(),
    tax: args.tax.toString(),
    date: args.date,
    digest: args.digest,
    by: ctx.caller,
  });
  return { issuerOrg, number: args.number, status: "issued", height: ctx.height };
}

function reimburse(ctx: CallContext, args: { issuerOrg: string; number: string; claimRef: string | null }) {
  const invoice = readInvoice(ctx, args.issuerOrg, args.number);
  if (ctx.callerOrg !== invoice.buyerOrg) {
    throw new TallyError("FORBIDDEN", "only an account of the buyer organisation may reimburse an invoice", {
      issuerOrg: args.issuerOrg,
      number: args.number,
      buyerOrg: invoice.buyerOrg,
    });
  }
  refuseIfSettled(invoice);
  writeInvoice(ctx, { ...invoice, status: "reimbursed", reimbursedAt: ctx.height, reimbursedBy: ctx.caller, claimRef: args.claimRef });
  const data = { issuerOrg: args.issuerOrg, number: args.number, buyerOrg: invoice.buyerOrg, by: ctx.caller, claimRef: args.claimRef };
  ctx.emit("reimbursed", data);
  return { issuerOrg: args.issuerOrg, number: args.number, status: "reimbursed", height: ctx.height };
}

function reverse(ctx: CallContext, args: { number: string; reason: string }) {
  const invoice = readInvoice(ctx, ctx.callerOrg, args.number);
  refuseIfSettled(invoice);
  writeInvoice(ctx, { ...invoice, status: "reversed", reversedAt: ctx.height, reversedBy: ctx.caller, reason: args.reason });
  ctx.emit("reversed", { issuerOrg: invoice.issuerOrg, number: args.number, by: ctx.caller, reason: args.reason });
  return { issuerOrg: invoice.issuerOrg, number: args.number, status: "reversed", height: ctx.height };
}

/** What anyone with the issuer and number may learn: no tax ids, accounts or free text. */
function statusView(r: InvoiceRecord): Value {
  return {
    issuerOrg: r.issuerOrg,
    number: r.number,
    status: r.status,
    buyerOrg: r.buyerOrg,
    amount: r.amount.toString(),
    tax: r.tax.toString(),
    date: r.date,
    digest: r.digest,
    issuedAt: r.height,
    reimbursedAt: r.reimbursedAt,
    reversedAt: r.reversedAt,
  };
}

/** The whole record, for the tax authority and regulators. */
function fullView(r: InvoiceRecord): Value {
  return {
    ...(statusView(r) as Record<string, Value>),
    sellerTaxId: r.sellerTaxId,
    buyerTaxId: r.buyerTaxId,
    issuedBy: r.issuedBy,
    reimbursedBy: r.reimbursedBy,
    claimRef: r.claimRef,
    reversedBy: r.reversedBy,
    reason: r.reason,
  };
}

const cursor = s.string({ maxLength: 24, pattern: INVOICE_CURSOR_RE });
const pageLimit: Schema<number | null> = {
  description: `an integer from 1 to ${LIMITS.apiListLimitMax} (optional, default 100)`,
  parse(v, path) {
    const n = s.optional(s.uint()).parse(v, path);
    if (n !== null && (n < 1 || n > LIMITS.apiListLimitMax)) {
      throw new TallyError("BAD_ARGS", `${path} must be from 1 to ${LIMITS.apiListLimitMax}`, { field: path, expected: this.description });
    }
    return n;
  },
};

/**
 * One page of an index (issuer's or buyer's) in commit order; `next` is the position of the last
 * item when the page is full (the next page may be empty), else null.
 */
function page(
  ctx: QueryContext,
  prefix: Uint8Array,
  after: string | null,
  limit: number | null,
  locate: (value: Uint8Array) => InvoiceRecord,
) {
  const n = limit ?? 100;
  const rows = ctx.scan(prefix, n, after === null ? undefined : concatBytes(prefix, fromHex(after, 12)));
  const items = rows.map(([, value]) => fullView(locate(value)));
  const lastKey = rows.at(-1)?.[0];
  return { items, next: rows.length === n && lastKey !== undefined ? toHex(lastKey.subarray(prefix.length)) : null };
}

function byIssuer(ctx: QueryContext, args: { issuerOrg: string; after: string | null; limit: number | null }) {
  const prefix = invoiceByIssuerPrefix(args.issuerOrg);
  const result = page(ctx, prefix, args.after, args.limit, (value) => {
    const num = decode(value);
    assert(typeof num === "string", "issuer index entry without a number");
    return readInvoice(ctx, args.issuerOrg, num);
  });
  return { issuerOrg: args.issuerOrg, ...result };
}

function byBuyer(ctx: QueryContext, args: { buyerOrg: string; after: string | null; limit: number | null }) {
  const prefix = invoiceByBuyerPrefix(args.buyerOrg);
  const result = page(ctx, prefix, args.after, args.limit, (value) => {
    const entry = decode(value);
    assert(Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "string", "malformed buyer index entry");
    return readInvoice(ctx, entry[0], entry[1]);
  });
  return { buyerOrg: args.buyerOrg, ...result };
}

const AUTHORITIES = [ROLES.taxAuthority, ROLES.regulator];

export const invoicesModule: Module = {
  name: "invoices",
  queries: {
    status: defineQuery({
      description: "An invoice's status, amounts, date, digest, buyer org and heights (anyone with the issuer org and number).",
      args: s.object({ issuerOrg: org, number }),
      run: (ctx, args) => statusView(readInvoice(ctx, args.issuerOrg, args.number)),
    }),
    byIssuer: defineQuery({
      description: "Every invoice of an issuing org in issue order, full records, a page at a time (tax-authority or regulator; signed).",
      args: s.object({ issuerOrg: org, after: s.optional(cursor), limit: pageLimit }),
      roles: AUTHORITIES,
      run: byIssuer,
    }),
    byBuyer: defineQuery({
      description:
        "Every invoice addressed to a buyer org in issue order, full records, a page at a time (tax-authority or regulator; signed).",
      args: s.object({ buyerOrg: org, after: s.optional(cursor), limit: pageLimit }),
      roles: AUTHORITIES,
      run: byBuyer,
    }),
  },
  methods: {
    issue: defineMethod({
      description: "Issue an invoice for the caller's org (role invoice-issuer); the number is unique per issuing org.",
      args: issueArgs,
      roles: [ROLES.invoiceIssuer],
      run: issue,
    }),
    reimburse: defineMethod({
      description: "Record the reimbursement of an invoice, once (any account of its buyer org).",
      args: reimburseArgs,
      run: reimburse,
    }),
    reverse: defineMethod({
      description: "Reverse an invoice of the caller's org before it is reimbursed, once (role invoice-issuer).",
      args: reverseArgs,
      roles: [ROLES.invoiceIssuer],
      run: reverse,
    }),
  },
};
