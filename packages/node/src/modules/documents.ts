/**
 * Document registry (spec/modules/documents.md): one mechanism for trade finance and cross-border
 * payment authenticity. A document is known only by its key, a commitment clients derive from its
 * fields and a consortium salt (core/src/documents.ts). Banks open uses of it — financing pledges,
 * released on repayment, and permanent payments — and the sum of open uses never exceeds its face
 * value, whichever institutions hold them. A refusal tells how much is used, never by whom.
 */
import {
  accountKey,
  CURRENCY_RE,
  DOCUMENT_KINDS,
  DOCUMENT_REF_LENGTH_MAX,
  DOCUMENT_USES_MAX,
  type DocumentKind,
  type DocumentRecord,
  decode,
  decodeDocumentRecord,
  decodeUseRecord,
  documentPayerKey,
  documentPayerPrefix,
  documentPaymentKey,
  documentRecordKey,
  documentUseKey,
  documentUsesPrefix,
  encode,
  encodeDocumentRecord,
  encodeUseRecord,
  fromHex,
  LIMITS,
  orgKey,
  PAYER_RE,
  parseTokenAmount,
  ROLES,
  splitDocumentPayerKey,
  TallyError,
  TOKEN_AMOUNT_RE,
  toHex,
  tokenAmountFromBytes,
  tokenAmountToBytes,
  type UseRecord,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext, type ReadContext } from "../execution/module.js";
import { type Schema, s } from "../execution/schema.js";

const ADDRESS_RE = /^[0-9a-f]{40}$/;
/** Queries take keys as hex (JSON); the "0x" form that answers use is accepted too. */
const KEY_HEX_RE = /^(0x)?[0-9a-f]{64}$/;
/** A byPayer cursor: the 32-byte document key and the 4-byte use id of the last item, in hex. */
const PAYER_CURSOR_RE = /^[0-9a-f]{72}$/;

function amount(): Schema<bigint> {
  return {
    description: `a decimal string matching ${TOKEN_AMOUNT_RE}, greater than 0`,
    parse: (v, path) => parseTokenAmount(v, path || "amount", true),
  };
}

const kind: Schema<DocumentKind> = {
  description: `one of ${DOCUMENT_KINDS.join(", ")}`,
  parse(v, path) {
    if (typeof v !== "string" || !(DOCUMENT_KINDS as readonly string[]).includes(v)) {
      throw new TallyError("BAD_ARGS", `${path} must be ${this.description}`, { field: path, expected: this.description });
    }
    return v as DocumentKind;
  },
};

const key = s.bytes(32);
const keyHex = s.string({ maxLength: 66, pattern: KEY_HEX_RE });
const ref = s.string({ maxLength: DOCUMENT_REF_LENGTH_MAX });
const org = s.string({ maxLength: 64 });
const useId = s.uint();
const listLimit = s.optional(s.uint());

const registerArgs = s.object({
  key,
  kind,
  faceValue: amount(),
  currency: s.string({ maxLength: 3, pattern: CURRENCY_RE }),
  debtor: s.optional(s.string({ maxLength: 40, pattern: ADDRESS_RE })),
});
const pledgeArgs = s.object({ key, amount: amount(), ref });
const releaseArgs = s.object({ key, useId });
const transferArgs = s.object({ key, toOrg: org });
const confirmArgs = s.object({ key, toOrg: s.optional(org) });
const paymentArgs = s.object({ key, paymentId: ref, payer: s.string({ maxLength: 64, pattern: PAYER_RE }), amount: amount() });

type Reader = Pick<ReadContext, "get">;

function readDocument(ctx: Reader, docKey: Uint8Array): DocumentRecord {
  const bytes = ctx.get(documentRecordKey(docKey));
  if (bytes === null) throw new TallyError("NO_SUCH_DOCUMENT", undefined, { key: toHex(docKey) });
  return decodeDocumentRecord(bytes);
}

/** Says nothing about who registered it: the key alone is the caller's own knowledge. */
function refuseIfRegistered(ctx: Reader, docKey: Uint8Array): void {
  if (ctx.get(documentRecordKey(docKey)) !== null) throw new TallyError("DOCUMENT_EXISTS", undefined, { key: toHex(docKey) });
}

function readUse(ctx: Reader, docKey: Uint8Array, id: number): UseRecord {
  const bytes = id === 0 ? null : ctx.get(documentUseKey(docKey, id));
  if (bytes === null) throw new TallyError("NO_SUCH_USE", undefined, { key: toHex(docKey), useId: id });
  return decodeUseRecord(bytes);
}

/**
 * Refuses a new use that would take the open uses above the face value. The meta gives the amounts
 * only: which institutions hold the other uses is for the regulator to see, not a competing bank.
 */
function checkCapacity(doc: DocumentRecord, docKey: Uint8Array, requested: bigint): void {
  if (doc.used + requested > doc.faceValue) {
    throw new TallyError("DOCUMENT_OVERUSED", undefined, {
      key: toHex(docKey),
      faceValue: doc.faceValue.toString(),
      used: doc.used.toString(),
      available: (doc.faceValue - doc.used).toString(),
      requested: requested.toString(),
    });
  }
  if (doc.uses >= DOCUMENT_USES_MAX) {
    throw new TallyError("TOO_LARGE", `a document has at most ${DOCUMENT_USES_MAX} uses`, { field: "uses", max: DOCUMENT_USES_MAX });
  }
}

/** Opens use `doc.uses + 1` and writes it with the updated document; returns the new document. */
function openUse(
  ctx: CallContext,
  docKey: Uint8Array,
  doc: DocumentRecord,
  use: Omit<UseRecord, "id" | "org" | "by" | "height" | "status" | "releasedHeight">,
): { doc: DocumentRecord; id: number } {
  checkCapacity(doc, docKey, use.amount);
  const id = doc.uses + 1;
  const record: UseRecord = { ...use, id, org: ctx.callerOrg, by: ctx.caller, height: ctx.height, status: "open", releasedHeight: null };
  ctx.set(documentUseKey(docKey, id), encodeUseRecord(record));
  const next: DocumentRecord = { ...doc, used: doc.used + use.amount, openUses: doc.openUses + 1, uses: id };
  ctx.set(documentRecordKey(docKey), encodeDocumentRecord(next));
  return { doc: next, id };
}

const amounts = (docKey: Uint8Array, doc: DocumentRecord) => ({
  key: toHex(docKey),
  used: doc.used.toString(),
  available: (doc.faceValue - doc.used).toString(),
});

function requireOrgExists(ctx: Reader, id: string): void {
  if (ctx.get(orgKey(id)) === null) throw new TallyError("NO_SUCH_ORG", undefined, { org: id });
}

// ---- queries ------------------------------------------------------------------------------------------

function useJson(u: UseRecord) {
  return {
    id: u.id,
    org: u.org,
    kind: u.kind,
    amount: u.amount.toString(),
    ref: u.ref,
    payer: u.payer,
    by: u.by,
    height: u.height,
    status: u.status,
    releasedHeight: u.releasedHeight,
  };
}

/** Every use of a document (at most DOCUMENT_USES_MAX, so one scan). */
function allUses(ctx: QueryContext, docKey: Uint8Array): UseRecord[] {
  return ctx.scan(documentUsesPrefix(docKey), DOCUMENT_USES_MAX).map(([, v]) => decodeUseRecord(v));
}

const keyFromHex = (hex: string): Uint8Array => fromHex(hex.replace(/^0x/, ""), 32);
const pageLimit = (limit: number | null): number => Math.min(limit ?? 100, LIMITS.apiListLimitMax);

/**
 * Anyone learns whether a key is registered and how much of it is free — what a bank needs before
 * financing. The holder org also sees the factoring state; each org sees its own uses; a regulator sees all.
 */
function documentQuery(ctx: QueryContext, args: { key: string }) {
  const docKey = keyFromHex(args.key);
  const doc = readDocument(ctx, docKey);
  const base = {
    ...amounts(docKey, doc),
    kind: doc.kind,
    faceValue: doc.faceValue.toString(),
    currency: doc.currency,
    openUses: doc.openUses,
  };
  const pending = doc.pending === null ? null : { toOrg: doc.pending.toOrg, by: doc.pending.by, height: doc.pending.height };
  const detail = { holder: doc.holder, debtor: doc.debtor, registeredBy: doc.registeredBy, height: doc.height, pending };
  if (ctx.callerRoles.includes(ROLES.regulator)) return { ...base, ...detail, uses: allUses(ctx, docKey).map(useJson) };
  if (ctx.callerOrg === null) return base;
  const own = allUses(ctx, docKey).filter((u) => u.org === ctx.callerOrg);
  return { ...base, ...(ctx.callerOrg === doc.holder ? detail : {}), ownUses: own.map(useJson) };
}

function usesQuery(ctx: QueryContext, args: { key: string; after: number | null; limit: number | null }) {
  const docKey = keyFromHex(args.key);
  readDocument(ctx, docKey);
  const limit = pageLimit(args.limit);
  const after = args.after === null ? undefined : documentUseKey(docKey, args.after);
  const items = ctx.scan(documentUsesPrefix(docKey), limit, after).map(([, v]) => useJson(decodeUseRecord(v)));
  const last = items.at(-1);
  return { key: toHex(docKey), items, next: items.length === limit && last !== undefined ? last.id : null };
}

function byPayerQuery(ctx: QueryContext, args: { payer: string; after: string | null; limit: number | null }) {
  const prefix = documentPayerPrefix(args.payer);
  const limit = pageLimit(args.limit);
  const rows = ctx.scan(prefix, limit, args.after === null ? undefined : new Uint8Array([...prefix, ...fromHex(args.after)]));
  const items = rows.map(([stateKey, value]) => {
    const { key: docKey, useId: id } = splitDocumentPayerKey(args.payer, stateKey);
    const use = readUse(ctx, docKey, id);
    const doc = readDocument(ctx, docKey);
    return {
      key: toHex(docKey),
      useId: id,
      paymentId: use.ref,
      amount: tokenAmountFromBytes(decode(value) as Uint8Array).toString(),
      currency: doc.currency,
      org: use.org,
      height: use.height,
      cursor: toHex(stateKey.subarray(prefix.length)),
    };
  });
  const last = items.at(-1);
  return { payer: args.payer, items, next: items.length === limit && last !== undefined ? last.cursor : null };
}

export const documentsModule: Module = {
  name: "documents",
  queries: {
    document: defineQuery({
      description:
        "A document's kind, face value, currency, used and available amounts (anyone); its holder org also sees holder, debtor and pending transfer; each org sees its own uses; a regulator sees every use.",
      args: s.object({ key: keyHex }),
      run: documentQuery,
    }),
    uses: defineQuery({
      description:
        "Every use of a document (financing, open and released, and payments) with org, reference and heights, in id order (regulator; signed).",
      args: s.object({ key: keyHex, after: s.optional(useId), limit: listLimit }),
      roles: [ROLES.regulator],
      run: usesQuery,
    }),
    byPayer: defineQuery({
      description: "Every payment of a payer with the document it used and its amount, by document key (regulator; signed).",
      args: s.object({
        payer: s.string({ maxLength: 64, pattern: PAYER_RE }),
        after: s.optional(s.string({ maxLength: 72, pattern: PAYER_CURSOR_RE })),
        limit: listLimit,
      }),
      roles: [ROLES.regulator],
      run: byPayerQuery,
    }),
  },
  methods: {
    register: defineMethod({
      description:
        "Register a document by its key (role bank); the caller's org becomes its holder. A debtor account makes it transferable.",
      args: registerArgs,
      roles: [ROLES.bank],
      precheck(ctx, args) {
        refuseIfRegistered(ctx, args.key);
      },
      run(ctx, args) {
        refuseIfRegistered(ctx, args.key);
        if (args.debtor !== null && ctx.get(accountKey(args.debtor)) === null) {
          throw new TallyError("NO_SUCH_ACCOUNT", undefined, { address: args.debtor });
        }
        const doc: DocumentRecord = {
          kind: args.kind,
          faceValue: args.faceValue,
          currency: args.currency,
          holder: ctx.callerOrg,
          debtor: args.debtor,
          registeredBy: ctx.caller,
          height: ctx.height,
          used: 0n,
          openUses: 0,
          uses: 0,
          pending: null,
        };
        ctx.set(documentRecordKey(args.key), encodeDocumentRecord(doc));
        const data = { key: toHex(args.key), kind: args.kind, faceValue: args.faceValue.toString(), currency: args.currency };
        ctx.emit("registered", data);
        return { ...data, holder: ctx.callerOrg };
      },
    }),
    pledge: defineMethod({
      description: "Finance against a document (role bank): opens a financing use of `amount`, refused beyond the face value.",
      args: pledgeArgs,
      roles: [ROLES.bank],
      run(ctx, args) {
        const { doc, id } = openUse(ctx, args.key, readDocument(ctx, args.key), {
          kind: "financing",
          amount: args.amount,
          ref: args.ref,
          payer: null,
        });
        ctx.emit("pledged", { key: toHex(args.key), useId: id, amount: args.amount.toString() });
        return { ...amounts(args.key, doc), useId: id };
      },
    }),
    release: defineMethod({
      description: "Close an open financing use on repayment (role bank, of the org that opened it).",
      args: releaseArgs,
      roles: [ROLES.bank],
      run(ctx, args) {
        const doc = readDocument(ctx, args.key);
        const use = readUse(ctx, args.key, args.useId);
        if (use.org !== ctx.callerOrg)
          throw new TallyError("FORBIDDEN", "only the organisation that opened a use releases it", { useId: use.id });
        if (use.kind !== "financing") throw new TallyError("USE_PERMANENT", undefined, { useId: use.id });
        if (use.status !== "open") throw new TallyError("USE_CLOSED", undefined, { useId: use.id });
        ctx.set(documentUseKey(args.key, use.id), encodeUseRecord({ ...use, status: "released", releasedHeight: ctx.height }));
        const next: DocumentRecord = { ...doc, used: doc.used - use.amount, openUses: doc.openUses - 1 };
        ctx.set(documentRecordKey(args.key), encodeDocumentRecord(next));
        ctx.emit("released", { key: toHex(args.key), useId: use.id, amount: use.amount.toString() });
        return { ...amounts(args.key, next), useId: use.id };
      },
    }),
    transfer: defineMethod({
      description: "Ask to transfer a document to another org (factoring; role bank, of the holder org); the debtor confirms.",
      args: transferArgs,
      roles: [ROLES.bank],
      run(ctx, args) {
        const doc = readDocument(ctx, args.key);
        if (doc.holder !== ctx.callerOrg)
          throw new TallyError("FORBIDDEN", "only the holder organisation transfers a document", { key: toHex(args.key) });
        if (doc.debtor === null) throw new TallyError("NO_DEBTOR", undefined, { key: toHex(args.key) });
        if (args.toOrg === doc.holder)
          throw new TallyError("BAD_ARGS", "the document is already held by this organisation", { field: "toOrg" });
        requireOrgExists(ctx, args.toOrg);
        // A new request replaces a pending one: the holder may re-target before the debtor confirms.
        const pending = { toOrg: args.toOrg, by: ctx.caller, height: ctx.height };
        ctx.set(documentRecordKey(args.key), encodeDocumentRecord({ ...doc, pending }));
        const data = { key: toHex(args.key), toOrg: args.toOrg };
        ctx.emit("transferRequested", data);
        return data;
      },
    }),
    "confirm-transfer": defineMethod({
      description: "The debtor confirms the pending transfer (optionally naming the expected org); the target org becomes the holder.",
      args: confirmArgs,
      run(ctx, args) {
        const doc = readDocument(ctx, args.key);
        if (doc.debtor !== ctx.caller)
          throw new TallyError("FORBIDDEN", "only the document's debtor confirms a transfer", { key: toHex(args.key) });
        const pending = doc.pending;
        if (pending === null || (args.toOrg !== null && args.toOrg !== pending.toOrg)) {
          throw new TallyError("NO_PENDING_TRANSFER", undefined, {
            key: toHex(args.key),
            ...(args.toOrg === null ? {} : { toOrg: args.toOrg }),
          });
        }
        requireOrgExists(ctx, pending.toOrg);
        ctx.set(documentRecordKey(args.key), encodeDocumentRecord({ ...doc, holder: pending.toOrg, pending: null }));
        const data = { key: toHex(args.key), from: doc.holder, to: pending.toOrg };
        ctx.emit("transferred", data);
        return data;
      },
    }),
    "record-payment": defineMethod({
      description:
        "Record that a payment uses a document (role bank): a permanent use; payment ids are unique per document; capped by the face value.",
      args: paymentArgs,
      roles: [ROLES.bank],
      run(ctx, args) {
        const doc = readDocument(ctx, args.key);
        const paymentKey = documentPaymentKey(args.key, args.paymentId);
        if (ctx.get(paymentKey) !== null) {
          throw new TallyError("PAYMENT_EXISTS", undefined, { key: toHex(args.key), paymentId: args.paymentId });
        }
        const { doc: next, id } = openUse(ctx, args.key, doc, {
          kind: "payment",
          amount: args.amount,
          ref: args.paymentId,
          payer: args.payer,
        });
        ctx.set(paymentKey, encode(id));
        ctx.set(documentPayerKey(args.payer, args.key, id), encode(tokenAmountToBytes(args.amount)));
        ctx.emit("paymentRecorded", { key: toHex(args.key), useId: id, paymentId: args.paymentId, amount: args.amount.toString() });
        return { ...amounts(args.key, next), useId: id };
      },
    }),
  },
};
