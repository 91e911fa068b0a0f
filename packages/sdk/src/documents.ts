/**
 * The `documents` module from a client (spec/modules/documents.md). Keys are derived locally with
 * `documentKey` from the document's fields and the consortium salt, which never leaves the client.
 * Calls are signed by an AccountSigner (`signer.documents`); reads are module queries:
 * `client.query("documents", "document", { key })`, and for a regulator
 * `client.query("documents", "uses" | "byPayer", args, { signer })`.
 */
import {
  type CryptoSuite,
  DOCUMENT_KEY_BYTES,
  type DocumentFieldsInput,
  type DocumentKind,
  documentKey,
  fromHex,
  normalizeDocumentFields,
  parseTokenAmount,
  TallyError,
  type Value,
} from "@tally/core";
import type { SubmitOptions } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { SubmitResult } from "./types.js";

export type DocumentAmount = bigint | string;
/** A document key: 32 bytes, or 64 hex characters (optionally "0x"-prefixed). */
export type DocumentKeyInput = Uint8Array | string;

/** A use as the queries return it (amounts as decimal strings). */
export interface DocumentUseView {
  readonly id: number;
  readonly org: string;
  readonly kind: "financing" | "payment";
  readonly amount: string;
  readonly ref: string;
  readonly payer: string | null;
  readonly by: string;
  readonly height: number;
  readonly status: "open" | "released";
  readonly releasedHeight: number | null;
}

/** The `document` query's answer; optional fields depend on who asks (spec/modules/documents.md §queries). */
export interface DocumentView {
  readonly key: string;
  readonly kind: DocumentKind;
  readonly faceValue: string;
  readonly currency: string;
  readonly used: string;
  readonly available: string;
  readonly openUses: number;
  readonly holder?: string;
  readonly debtor?: string | null;
  readonly registeredBy?: string;
  readonly height?: number;
  readonly pending?: { toOrg: string; by: string; height: number } | null;
  /** Every use: regulators only. */
  readonly uses?: DocumentUseView[];
  /** The asking organisation's own uses. */
  readonly ownUses?: DocumentUseView[];
}

export interface DocumentUsesPage {
  readonly key: string;
  readonly items: DocumentUseView[];
  readonly next: number | null;
}

export interface PayerDocumentsPage {
  readonly payer: string;
  readonly items: Array<{
    key: string;
    useId: number;
    paymentId: string;
    amount: string;
    currency: string;
    org: string;
    height: number;
    cursor: string;
  }>;
  readonly next: string | null;
}

/** A registration: either the key and its public fields, or the salt and the document's fields (the key is derived). */
export type DocumentRegistration =
  | { key: DocumentKeyInput; kind: DocumentKind; faceValue: DocumentAmount; currency: string; debtor?: string }
  | { salt: Uint8Array; fields: DocumentFieldsInput; debtor?: string };

export function documentKeyBytes(key: DocumentKeyInput): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length !== DOCUMENT_KEY_BYTES) throw new TallyError("BAD_ARGS", "a document key is 32 bytes", { field: "key" });
    return key;
  }
  const hex = key.replace(/^0x/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TallyError("BAD_ARGS", "a document key is 64 lowercase hex characters", { field: "key" });
  return fromHex(hex, DOCUMENT_KEY_BYTES);
}

function wireAmount(amount: DocumentAmount, field: string): string {
  const text = typeof amount === "bigint" ? amount.toString() : amount;
  parseTokenAmount(text, field, true);
  return text;
}

/** Calls of the documents module, signed by one account. They wait for commit unless `wait: false`. */
export class DocumentCalls {
  constructor(
    private readonly signer: AccountSigner,
    private readonly suite: Pick<CryptoSuite, "hash">,
  ) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("documents", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** The key of a document on this chain (its suite's hash), derived locally. */
  keyOf(salt: Uint8Array, fields: DocumentFieldsInput): Uint8Array {
    return documentKey(this.suite, salt, fields);
  }

  /** Registers a document (role bank); the signer's organisation becomes its holder. */
  register(doc: DocumentRegistration, options: SubmitOptions = {}): Promise<SubmitResult> {
    let args: Record<string, Value>;
    if ("salt" in doc) {
      const f = normalizeDocumentFields(doc.fields);
      args = { key: this.keyOf(doc.salt, f), kind: f.kind, faceValue: f.faceValue, currency: f.currency };
    } else {
      args = { key: documentKeyBytes(doc.key), kind: doc.kind, faceValue: wireAmount(doc.faceValue, "faceValue"), currency: doc.currency };
    }
    if (doc.debtor !== undefined) args.debtor = doc.debtor;
    return this.call("register", args, options);
  }

  /** Opens a financing use of `amount` (role bank); refused with DOCUMENT_OVERUSED beyond the face value. */
  pledge(key: DocumentKeyInput, amount: DocumentAmount, ref: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("pledge", { key: documentKeyBytes(key), amount: wireAmount(amount, "amount"), ref }, options);
  }

  /** Releases an open financing use of the signer's organisation (on repayment). */
  release(key: DocumentKeyInput, useId: number, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("release", { key: documentKeyBytes(key), useId }, options);
  }

  /** Asks to transfer the document to `toOrg` (the holder organisation's bank); the debtor confirms. */
  transfer(key: DocumentKeyInput, toOrg: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("transfer", { key: documentKeyBytes(key), toOrg }, options);
  }

  /** The debtor confirms the pending transfer; with `toOrg`, only a transfer to that organisation. */
  confirmTransfer(key: DocumentKeyInput, options: SubmitOptions & { toOrg?: string } = {}): Promise<SubmitResult> {
    const args: Record<string, Value> = { key: documentKeyBytes(key) };
    if (options.toOrg !== undefined) args.toOrg = options.toOrg;
    return this.call("confirm-transfer", args, options);
  }

  /** Records that a payment uses the document (role bank): permanent, capped by the face value. */
  recordPayment(
    key: DocumentKeyInput,
    payment: { paymentId: string; payer: string; amount: DocumentAmount },
    options: SubmitOptions = {},
  ): Promise<SubmitResult> {
    return this.call(
      "record-payment",
      { key: documentKeyBytes(key), paymentId: payment.paymentId, payer: payment.payer, amount: wireAmount(payment.amount, "amount") },
      options,
    );
  }
}
